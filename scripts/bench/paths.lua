-- wrk script of `npm run bench`: requests the paths listed in the file named by WRK_PATHS (drawn
-- in advance from the target's random mix), in order, each connection's thread starting at a
-- random line, and writes wrk's summary through result.lua.
local paths = {}
for line in io.lines(os.getenv("WRK_PATHS")) do paths[#paths + 1] = line end
local i = 0

function init(args)
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
  i = math.random(#paths)
end

function request()
  i = i % #paths + 1
  return wrk.format("GET", paths[i])
end

dofile(os.getenv("WRK_RESULT_LUA"))
