-- Drives Debian's Neovim (0.7, its built-in LSP client) through mptcp-policy lsp,
-- started by editors/neovim/mptcp-policy.lua as a user would have it: open the
-- rules of a directory policy, wait for the diagnostics, complete an event name,
-- hover a condition, apply the quick fix, format, go to an interface's declaration
-- in the other file, rename it across files, and last complete an event name in
-- Insert mode with <C-x><C-o> as a user does. Everything seen is written as JSON
-- to $MPTCP_POLICY_NVIM_OUT for test/neovim.test.ts to judge; every step is
-- guarded, so a failing one is reported and the rest still runs.
local dir = os.getenv("MPTCP_POLICY_NVIM_DIR")
local out = os.getenv("MPTCP_POLICY_NVIM_OUT")
local results = { steps = {}, errors = {} }
local TIMEOUT = 20000

local function step(name, fn)
  local ok, value = pcall(fn)
  if ok then
    results.steps[name] = value == nil and vim.NIL or value
  else
    results.errors[name] = tostring(value)
  end
end

local function client()
  return vim.lsp.get_active_clients()[1]
end

--- A request through the client, answered synchronously (the client's own transport).
local function request(method, params)
  local answers = vim.lsp.buf_request_sync(0, method, params, TIMEOUT)
  assert(answers, method .. ": no answer")
  for _, answer in pairs(answers) do
    assert(answer.err == nil, method .. ": " .. vim.inspect(answer.err))
    return answer.result
  end
end

local function cursor_on(pattern, line)
  local text = vim.api.nvim_buf_get_lines(0, line - 1, line, true)[1]
  local col = assert(text:find(pattern, 1, true), pattern .. " not on line " .. line)
  vim.api.nvim_win_set_cursor(0, { line, col - 1 })
end

--- The diagnostic of this code, once the client has it (after edits, the server's answer may still be on its way).
local function diagnostic_with(code)
  local found
  vim.wait(TIMEOUT, function()
    for _, d in ipairs(vim.diagnostic.get(0)) do
      if (d.code or (d.user_data and d.user_data.lsp and d.user_data.lsp.code)) == code then
        found = d
        return true
      end
    end
    return false
  end, 20)
  return assert(found, "no diagnostic " .. code .. ": " .. vim.inspect(vim.diagnostic.get(0)))
end

local function lines(bufnr)
  return vim.api.nvim_buf_get_lines(bufnr, 0, -1, true)
end

step("open", function()
  vim.cmd("edit " .. dir .. "/20-rules.policy")
  assert(vim.wait(TIMEOUT, function()
    return client() ~= nil and client().initialized
  end, 20), "the client did not start")
  return { filetype = vim.bo.filetype, client = client().name }
end)

step("diagnostics", function()
  assert(vim.wait(TIMEOUT, function()
    return #vim.diagnostic.get(0) > 0
  end, 20), "no diagnostics came")
  local seen = {}
  for _, d in ipairs(vim.diagnostic.get(0)) do
    table.insert(seen, { lnum = d.lnum, col = d.col, end_lnum = d.end_lnum, end_col = d.end_col, severity = d.severity, message = d.message, source = d.source, code = d.code or (d.user_data and d.user_data.lsp and d.user_data.lsp.code) })
  end
  return seen
end)

step("completion", function()
  -- A new rule at the end, its event being typed: `on subf`.
  local last = vim.api.nvim_buf_line_count(0)
  vim.api.nvim_buf_set_lines(0, last, last, true, { "on subf" })
  vim.api.nvim_win_set_cursor(0, { last + 1, 7 })
  -- <C-x><C-o> calls the omnifunc, which sends this request and shows the items
  -- through the client's own conversion (its complete() needs Insert mode).
  local omnifunc = vim.bo.omnifunc
  local result = request("textDocument/completion", vim.lsp.util.make_position_params())
  local items = vim.lsp.util.text_document_completion_list_to_complete_items(result, "subf")
  local words = {}
  for _, item in ipairs(items) do
    table.insert(words, item.word)
  end
  vim.api.nvim_buf_set_lines(0, last, last + 1, true, {})
  return { omnifunc = omnifunc, words = words }
end)

step("hover", function()
  cursor_on("iface", 2)
  local result = request("textDocument/hover", vim.lsp.util.make_position_params())
  return vim.lsp.util.convert_input_to_markdown_lines(result.contents)
end)

step("quickfix", function()
  local line = diagnostic_with("E100").lnum + 1
  local params = vim.lsp.util.make_range_params()
  params.range = { start = { line = line - 1, character = 0 }, ["end"] = { line = line - 1, character = 0 } }
  params.context = { diagnostics = vim.lsp.diagnostic.get_line_diagnostics(0, line - 1) }
  local actions = request("textDocument/codeAction", params)
  assert(actions and actions[1], "no code action")
  vim.lsp.util.apply_workspace_edit(actions[1].edit, client().offset_encoding or "utf-16")
  assert(vim.wait(TIMEOUT, function()
    return #vim.diagnostic.get(0) == 0
  end, 20), "the fix left diagnostics: " .. vim.inspect(vim.diagnostic.get(0)))
  return { title = actions[1].title, line = lines(0)[line] }
end)

step("format", function()
  vim.api.nvim_buf_set_lines(0, 0, 1, true, { "on   iface_down    wifi   then log   \"wifi down\"" })
  vim.lsp.buf.formatting_sync(nil, TIMEOUT)
  return lines(0)[1]
end)

step("definition", function()
  cursor_on("lte", 2)
  local from = vim.api.nvim_get_current_buf()
  vim.lsp.buf.definition()
  assert(vim.wait(TIMEOUT, function()
    return vim.api.nvim_get_current_buf() ~= from
  end, 20), "did not jump")
  local cursor = vim.api.nvim_win_get_cursor(0)
  return { file = vim.fn.fnamemodify(vim.api.nvim_buf_get_name(0), ":t"), line = cursor[1], col = cursor[2] }
end)

step("rename", function()
  -- In the declaration's file now: rename `lte` where it is declared.
  local interfaces = vim.api.nvim_get_current_buf()
  vim.lsp.buf.rename("cellular")
  local rules = vim.fn.bufnr(dir .. "/20-rules.policy")
  assert(vim.wait(TIMEOUT, function()
    return table.concat(lines(rules), "\n"):find("cellular", 1, true) ~= nil
  end, 20), "the rules were not renamed")
  return { interfaces = lines(interfaces), rules = lines(rules) }
end)

step("after rename", function()
  -- The policy still checks clean: the server saw both edits.
  vim.cmd("buffer " .. vim.fn.bufnr(dir .. "/20-rules.policy"))
  local counts = {}
  vim.wait(TIMEOUT, function()
    local clean = true
    for _, name in ipairs({ "10-interfaces.policy", "20-rules.policy" }) do
      counts[name] = #vim.diagnostic.get(vim.fn.bufnr(dir .. "/" .. name))
      clean = clean and counts[name] == 0
    end
    return clean
  end, 20)
  return counts
end)

local function finish()
  local file = assert(io.open(out, "w"))
  file:write(vim.fn.json_encode(results))
  file:close()
  for _, c in ipairs(vim.lsp.get_active_clients()) do
    c.stop()
  end
  vim.wait(2000, function()
    return #vim.lsp.get_active_clients() == 0
  end, 20)
  vim.cmd("qall!")
end

--- Calls `next` once `condition` holds, from a timer: keys typed with nvim_input are
--- read by the main loop, which vim.wait does not run.
local function when(condition, next)
  local timer = vim.loop.new_timer()
  local started = vim.loop.now()
  timer:start(20, 20, vim.schedule_wrap(function()
    if condition() or vim.loop.now() - started > TIMEOUT then
      timer:stop()
      timer:close()
      next(condition())
    end
  end))
end

-- Last, completion as a user has it: in Insert mode, `on subf` then <C-x><C-o>, the
-- menu of events, <C-n> to the second, <Esc>.
vim.cmd("buffer " .. vim.fn.bufnr(dir .. "/20-rules.policy"))
vim.api.nvim_input("Goon subf<C-x><C-o>")
when(function()
  return vim.fn.pumvisible() == 1
end, function(shown)
  local words = {}
  for _, item in ipairs(shown and vim.fn.complete_info({ "items" }).items or {}) do
    table.insert(words, item.word)
  end
  vim.api.nvim_input("<C-n><Esc>")
  when(function()
    return vim.api.nvim_get_mode().mode == "n"
  end, function()
    results.steps["insert-mode completion"] = { menu = words, line = vim.api.nvim_get_current_line() }
    if not shown then
      results.errors["insert-mode completion"] = "no completion menu"
    end
    finish()
  end)
end)
