-- mptcp-policy's language server in Neovim's built-in client (Neovim 0.7 or newer),
-- without plugins. Source it from init.lua (dofile("/path/to/mptcp-policy.lua"))
-- or copy it there; filetype detection is editors/vim/ftdetect/mptcp-policy.vim.
-- One server serves every policy: it finds a file's policy (its directory) itself.
-- vim.g.mptcp_policy_lsp_cmd overrides the command (default: mptcp-policy lsp).
local client_id

local function attach(bufnr)
  local client = client_id and vim.lsp.get_client_by_id(client_id)
  if client == nil or client.is_stopped() then
    client_id = vim.lsp.start_client({
      name = "mptcp-policy",
      cmd = vim.g.mptcp_policy_lsp_cmd or { "mptcp-policy", "lsp" },
      root_dir = vim.fn.fnamemodify(vim.api.nvim_buf_get_name(bufnr), ":p:h"),
      on_attach = function(_, buf)
        -- <C-x><C-o> completes from the server; gq and formatting go through it too.
        vim.api.nvim_buf_set_option(buf, "omnifunc", "v:lua.vim.lsp.omnifunc")
      end,
    })
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
