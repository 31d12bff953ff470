-- wrk script of `npm run bench` for the write workloads. Run with as many threads as
-- connections: each thread has one connection and is one shopper (a token from WRK_TOKENS, by
-- thread number). WRK_MODE=cart-add: every request adds one unit of a random product from
-- WRK_PRODUCTS. WRK_MODE=checkout: the shopper adds a line, then checks out, over and over: the
-- next request follows from the last response (wrk may call request() before it sends
-- anything, so counting requests could start with a checkout of an empty cart). Writes wrk's
-- summary through result.lua.
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("shopper", threads)
end

local token, products, checkout, added = nil, {}, false, false

function init(args)
  local tokens = {}
  for line in io.lines(os.getenv("WRK_TOKENS")) do tokens[#tokens + 1] = line end
  for line in io.lines(os.getenv("WRK_PRODUCTS")) do products[#products + 1] = line end
  token = tokens[(shopper - 1) % #tokens + 1]
  checkout = os.getenv("WRK_MODE") == "checkout"
  math.randomseed(os.time() + shopper)
end

function request()
  local headers = { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token }
  if checkout and added then return wrk.format("POST", "/orders/", headers, "") end
  return wrk.format("POST", "/cart/", headers, '{"product_id": ' .. products[math.random(#products)] .. ', "quantity": 1}')
end

function response(status, headers, body)
  if checkout then added = not added end
end

dofile(os.getenv("WRK_RESULT_LUA"))
