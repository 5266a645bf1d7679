-- mptcp-policy's language server in Neovim's built-in client, without plugins, for
-- Neovim 0.7 (Debian 12's) and newer. Load it from init.lua
-- (dofile("/path/to/mptcp-policy/editors/neovim/mptcp-policy.lua")) or copy it there;
-- filetype detection is editors/vim/ftdetect/mptcp-policy.vim. One server serves
-- every policy: it finds a file's policy (its directory) itself.
-- vim.g.mptcp_policy_lsp_cmd overrides the command (default: mptcp-policy lsp).
local client_id

local function on_attach(_, bufnr)
  -- <C-x><C-o> completes from the server.
  vim.bo[bufnr].omnifunc = "v:lua.vim.lsp.omnifunc"
end

local function config(bufnr)
  return {
    name = "mptcp-policy",
    cmd = vim.g.mptcp_policy_lsp_cmd or { "mptcp-policy", "lsp" },
    root_dir = vim.fn.fnamemodify(vim.api.nvim_buf_get_name(bufnr), ":p:h"),
    on_attach = on_attach,
  }
end

local function attach(bufnr)
  if vim.lsp.start then
    -- Neovim 0.8+: one client for every policy, whatever its directory.
    vim.lsp.start(config(bufnr), {
      bufnr = bufnr,
      reuse_client = function(client, wanted)
        return client.name == wanted.name
      end,
    })
    return
  end
  -- Neovim 0.7: start the client once, attach each buffer to it.
  local client = client_id and vim.lsp.get_client_by_id(client_id)
  if client == nil or client.is_stopped() then
    client_id = vim.lsp.start_client(config(bufnr))
  end
  if client_id then
    vim.lsp.buf_attach_client(bufnr, client_id)
  end
end

vim.api.nvim_create_autocmd("FileType", {
  pattern = "mptcp-policy",
  callback = function(args)
    attach(args.buf)
  end,
})
