" Filetype detection for mptcp-policy files, for Vim and Neovim: every *.policy
" file under /etc/mptcp-policy/, and elsewhere a *.policy file that reads like
" one (polkit's *.policy files are XML). Copy it to ~/.vim/ftdetect/ (Vim) or
" ~/.config/nvim/ftdetect/ (Neovim), or add editors/vim to 'runtimepath'.
autocmd BufRead,BufNewFile /etc/mptcp-policy/*.policy setfiletype mptcp-policy
autocmd BufRead,BufNewFile *.policy
      \ if getline(1) !~# '^\s*<' && search('^\s*\(interface\|limits\|endpoint\|on\|scheduler\)\>', 'nw') |
      \   setfiletype mptcp-policy |
      \ endif
