# Doxygen input filter for include/resnet/*.h (docs/Doxyfile): the headers document their contracts in
# plain // comments, which doxygen would skip. This turns
#   - the comment block at the top of a header into the file's documentation (/// \file …),
#   - a whole-line // comment into /// (it documents the declaration below it),
#   - a trailing // comment after a declaration ending in ; or , into ///< (the member on its left),
# and drops "// ---- section" rulers. Lines keep their numbers but for the one \file line added at the top
# (warnings name lines one past the header's own).
# The comments' text is plain: \ < > # @ & $ are escaped so that doxygen takes none of them for a command,
# an HTML tag or a link ("DIR/<class>/", "#fde725").
function plain(text) {
  gsub(/\\/, "\\\\", text)
  gsub(/[<>#@&$]/, "\\\\&", text)
  return text
}
BEGIN { top = 1 }
top && /^[ \t]*\/\// {
  if (!started) { print "/// \\file"; started = 1 }
  sub(/^[ \t]*\/\/ ?/, ""); print "/// " plain($0); next
}
{ top = 0 }
/^[ \t]*\/\/ *----/ { print ""; next }
/^[ \t]*\/\/[^\/!]/ || /^[ \t]*\/\/$/ { match($0, /^[ \t]*\/\//); print substr($0, 1, RLENGTH) "/" plain(substr($0, RLENGTH + 1)); next }
/[;,][ \t]+\/\/ / && !/"[^"]*\/\/[^"]*"/ {
  match($0, /[;,][ \t]+\/\/ /); print substr($0, 1, RSTART) " ///< " plain(substr($0, RSTART + RLENGTH)); next
}
{ print }
