-- wrk script of `npm run bench` for the write workloads. Run with as many threads as
-- connections: each thread has one connection and is one shopper (a token from WRK_TOKENS, by
-- thread number). WRK_MODE=cart-add: every request adds one unit of a random product from
-- WRK_PRODUCTS whose line has room left (addRequest). WRK_MODE=checkout: the shopper adds a
-- line, then checks out, over and over: the next request follows from the last response (wrk
-- may call request() before it sends anything, so counting requests could start with a
-- checkout of an empty cart). Writes wrk's summary through result.lua.
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

local function add(headers, product)
  return wrk.format("POST", "/cart/", headers, '{"product_id": ' .. product .. ', "quantity": 1}')
end

-- A cart line holds at most 99 units: one more is a 409, which fails the run. Each cart-add run
-- starts from an empty cart (writes.ts empties it before each wrk run), and request() counts the
-- units it asks for, never fewer than have landed. A shopper adds to a product whose line has
-- room, and one whose every line is full (99 units of each of the 20 products: about 30 s of
-- adds at this machine's rates, never reached in the bench's 10 s runs) empties the cart with
-- its next request.
local MAX_UNITS = 99
local units, full = {}, 0
local function addRequest(headers)
  if full == #products then
    units, full = {}, 0
    return wrk.format("DELETE", "/cart/", headers)
  end
  local i = math.random(#products)
  while (units[i] or 0) >= MAX_UNITS do i = i % #products + 1 end
  units[i] = (units[i] or 0) + 1
  if units[i] == MAX_UNITS then full = full + 1 end
  return add(headers, products[i])
end

function request()
  local headers = { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token }
  if not checkout then return addRequest(headers) end
  if added then return wrk.format("POST", "/orders/", headers, "") end
  return add(headers, products[math.random(#products)])
end

function response(status, headers, body)
  if checkout then added = not added end
end

dofile(os.getenv("WRK_RESULT_LUA"))
