" mptcp-policy lsp for ALE (Debian: apt install vim-ale, then 'packadd ale' in
" ~/.vimrc): diagnostics as you type, completion, :ALEHover, :ALEGoToDefinition,
" :ALEFindReferences, :ALERename, :ALECodeAction. ALE finds this file on the
" runtimepath (editors/vim). g:ale_mptcp_policy_executable names the command.
call ale#Set('mptcp_policy_executable', 'mptcp-policy')

call ale#linter#Define('mptcp-policy', {
\   'name': 'mptcp_policy',
\   'lsp': 'stdio',
\   'executable': {buffer -> ale#Var(buffer, 'mptcp_policy_executable')},
\   'command': '%e lsp',
\   'project_root': {buffer -> fnamemodify(bufname(buffer), ':p:h')},
\})
