package mailmsg

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Clip makes s fit a one-line field of a record or a notice: control
// characters become spaces, and it is cut to at most n bytes on a
// character boundary.
func Clip(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
