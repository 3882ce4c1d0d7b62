package handlers

import (
	"html"
	"regexp"
	"strings"
)

var (
	htmlDrop    = regexp.MustCompile(`(?is)<(script|style|head|title)\b.*?</(script|style|head|title)\s*>|<!--.*?-->`)
	htmlBreak   = regexp.MustCompile(`(?i)<\s*(br|/p|p|/div|/tr|/h[1-6]|/blockquote|hr|/ul|/ol)\b[^>]*>`)
	htmlItem    = regexp.MustCompile(`(?i)<\s*li\b[^>]*>`)
	htmlLink    = regexp.MustCompile(`(?is)<a\b[^>]*?href\s*=\s*["']([^"']*)["'][^>]*>(.*?)</a\s*>`)
	htmlTag     = regexp.MustCompile(`(?s)<[^>]*>`)
	spaceRun    = regexp.MustCompile(`[ \t\f\v\p{Zs}]+`)
	blankLines  = regexp.MustCompile(`\n{3,}`)
	spaceAround = regexp.MustCompile(` *\n *`)
)

// HTMLToText turns an HTML document into readable plain text: scripts,
// styles and comments are dropped, block ends become line breaks, list items
// get "* ", links keep their address in angle brackets, entities are decoded
// and runs of blanks collapsed.
func HTMLToText(s string) string {
	// Link addresses are put between two private-use runes while tags are
	// stripped, then between angle brackets.
	s = strings.NewReplacer("\uE000", "", "\uE001", "").Replace(s)
	s = htmlDrop.ReplaceAllString(s, "")
	s = htmlLink.ReplaceAllStringFunc(s, func(a string) string {
		m := htmlLink.FindStringSubmatch(a)
		text := strings.TrimSpace(htmlTag.ReplaceAllString(m[2], ""))
		href := strings.TrimSpace(m[1])
		if href == "" || strings.HasPrefix(strings.ToLower(href), "javascript:") || html.UnescapeString(text) == html.UnescapeString(href) {
			return text
		}
		return text + " \uE000" + href + "\uE001"
	})
	s = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(s)
	s = htmlItem.ReplaceAllString(s, "\n* ")
	s = htmlBreak.ReplaceAllString(s, "\n")
	s = htmlTag.ReplaceAllString(s, "")
	s = html.UnescapeString(s)
	s = strings.NewReplacer("\uE000", "<", "\uE001", ">").Replace(s)
	s = spaceRun.ReplaceAllString(s, " ")
	s = spaceAround.ReplaceAllString(s, "\n")
	s = blankLines.ReplaceAllString(s, "\n\n")
	s = strings.TrimSpace(s)
	if s != "" {
		s += "\n"
	}
	return s
}
