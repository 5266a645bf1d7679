" Drives Debian's Vim with Debian's ALE (vim-ale) through mptcp-policy lsp, set up as
" docs/editors.md says (editors/vim on the runtimepath, 'packadd ale'): open the
" rules of a directory policy, wait for the diagnostics, complete an event name,
" hover a condition, apply the quick fix, go to an interface's declaration in the
" other file, rename it.
" What ALE would ask or show the user goes through ALE's own seams for its tests
" (ale#util#Input, ale#util#ShowMessage, ale#util#Mode). Writes JSON to $OUT.
set nocompatible hidden
execute 'set runtimepath^=' . $REPO . '/editors/vim'
filetype plugin on
syntax on
packadd ale
let g:ale_mptcp_policy_executable = $CLI

runtime autoload/ale/util.vim
let g:shown = []
function! ale#util#ShowMessage(string, ...) abort
  call add(g:shown, a:string)
endfunction
let g:asked = []
function! ale#util#Input(message, value, ...) abort
  call add(g:asked, a:message)
  " The first of the code fixes offered; the new name of a rename.
  return a:message =~# '^Code Fixes' ? '1' : 'cellular'
endfunction
let g:mode = 'n'
function! ale#util#Mode(...) abort
  return g:mode
endfunction

function! s:wait(condition) abort
  for i in range(800)
    if eval(a:condition)
      return 1
    endif
    sleep 25m
  endfor
  return 0
endfunction

let s:out = {}
execute 'edit ' . $POLICY_DIR . '/20-rules.policy'
let s:rules = bufnr('')
let s:out.filetype = &filetype

call s:wait('!empty(ale#engine#GetLoclist(bufnr("")))')
let s:out.diagnostics = map(copy(ale#engine#GetLoclist(bufnr(''))), {_, d -> {'lnum': d.lnum, 'col': d.col, 'end_col': d.end_col, 'code': d.code, 'type': d.type, 'text': d.text}})

" `on subf`, completed by ALE's LSP completion (as in Insert mode).
call append(line('$'), 'on subf')
call cursor(line('$'), 8)
let g:mode = 'i'
let g:completions = v:null
function! s:completed(result) abort
  let g:completions = a:result
endfunction
call ale#completion#GetCompletions('ale-callback', {'callback': function('s:completed')})
call s:wait('g:completions isnot v:null')
let g:mode = 'n'
let s:out.completion = g:completions is v:null ? [] : map(copy(g:completions), {_, c -> c.word})
$delete

" Hover `iface` in the condition of line 2.
call cursor(2, 22)
ALEHover
call s:wait('!empty(g:shown)')
let s:out.hover = copy(g:shown)

" The checker's "did you mean" as a code action on `wfi` (line 2).
call cursor(2, 28)
ALECodeAction
call s:wait('getline(2) =~# "iface wifi "')
let s:out.codeaction = {'offered': filter(copy(g:asked), {_, m -> m =~# '^Code Fixes'}), 'line': getline(2)}
" (Without a screen there is no TextChanged, on which ALE checks again by itself.)
ALELint
call s:wait('empty(ale#engine#GetLoclist(bufnr("")))')
let s:out.after_fix = len(ale#engine#GetLoclist(bufnr('')))

" lte (line 1) is declared in the other file.
call cursor(1, 29)
ALEGoToDefinition
call s:wait('bufnr("") != ' . s:rules)
let s:out.definition = [fnamemodify(bufname(''), ':t'), line('.'), col('.')]

" Rename it where it is declared: both files change.
ALERename
call s:wait('join(getbufline(' . s:rules . ', 1, "$"), "\n") =~# "cellular"')
let s:out.rename = {'interfaces': getline(1, '$'), 'rules': getbufline(s:rules, 1, '$')}

call writefile([json_encode(s:out)], $OUT)
qall!
