package handlers

import (
	"html"
	"regexp"
	"strings"
)

var (
	spaceRun    = regexp.MustCompile(`[ \t\f\v\p{Zs}]+`)
	blankLines  = regexp.MustCompile(`\n{3,}`)
	spaceAround = regexp.MustCompile(` *\n *`)
)

// htmlBlocks are the elements whose start or end is a line break.
var htmlBlocks = map[string]bool{
	"br": true, "p": true, "div": true, "tr": true, "h1": true, "h2": true, "h3": true, "h4": true,
	"h5": true, "h6": true, "blockquote": true, "hr": true, "ul": true, "ol": true, "table": true, "pre": true,
}

// htmlHidden are the elements whose content is not text.
var htmlHidden = map[string]bool{"script": true, "style": true, "head": true, "title": true, "template": true}

// HTMLToText turns an HTML document into readable plain text in one linear
// pass: scripts, styles and comments are dropped, block elements become line
// breaks, list items get "* ", links keep their address in angle brackets,
// entities are decoded and runs of blanks collapsed.
func HTMLToText(s string) string {
	var b strings.Builder
	hidden := "" // the hidden element being skipped
	href := ""   // address of the open link
	linkAt := -1 // where the open link's text starts in b
	for i := 0; i < len(s); {
		if s[i] != '<' {
			j := strings.IndexByte(s[i:], '<')
			if j < 0 {
				j = len(s) - i
			}
			if hidden == "" {
				b.WriteString(html.UnescapeString(strings.NewReplacer("\r", " ", "\n", " ").Replace(s[i : i+j])))
			}
			i += j
			continue
		}
		if strings.HasPrefix(s[i:], "<!--") {
			j := strings.Index(s[i+4:], "-->")
			if j < 0 {
				break
			}
			i += 4 + j + 3
			continue
		}
		j := strings.IndexByte(s[i:], '>')
		if j < 0 {
			break // an unterminated tag ends the text
		}
		name, closing, attrs := parseTag(s[i+1 : i+j])
		i += j + 1
		if hidden != "" {
			if closing && name == hidden {
				hidden = ""
			}
			continue
		}
		switch {
		case htmlHidden[name] && !closing:
			hidden = name
		case name == "li" && !closing:
			b.WriteString("\n* ")
		case htmlBlocks[name]:
			b.WriteString("\n")
		case name == "a" && !closing:
			href, linkAt = tagAttr(attrs, "href"), b.Len()
		case name == "a" && closing && linkAt >= 0:
			text := strings.TrimSpace(b.String()[linkAt:])
			if href != "" && !strings.HasPrefix(strings.ToLower(href), "javascript:") && text != href {
				b.WriteString(" <" + href + ">")
			}
			href, linkAt = "", -1
		}
	}
	out := spaceRun.ReplaceAllString(b.String(), " ")
	out = spaceAround.ReplaceAllString(out, "\n")
	out = blankLines.ReplaceAllString(out, "\n\n")
	out = strings.TrimSpace(out)
	if out != "" {
		out += "\n"
	}
	return out
}

// parseTag splits the inside of a tag into its lower-cased name, whether it
// closes an element, and the rest (the attributes).
func parseTag(t string) (name string, closing bool, attrs string) {
	t = strings.TrimSpace(t)
	if strings.HasPrefix(t, "/") {
		closing = true
		t = strings.TrimSpace(t[1:])
	}
	end := strings.IndexAny(t, " \t\r\n/")
	if end < 0 {
		end = len(t)
	}
	return strings.ToLower(t[:end]), closing, t[end:]
}

// tagAttr returns the decoded value of the named attribute, or "".
func tagAttr(attrs, name string) string {
	l := strings.ToLower(attrs)
	for from := 0; ; {
		i := strings.Index(l[from:], name)
		if i < 0 {
			return ""
		}
		i += from
		from = i + len(name)
		if i > 0 && l[i-1] != ' ' && l[i-1] != '\t' && l[i-1] != '\n' && l[i-1] != '\r' {
			continue
		}
		rest := strings.TrimLeft(attrs[from:], " \t\r\n")
		if !strings.HasPrefix(rest, "=") {
			continue
		}
		rest = strings.TrimLeft(rest[1:], " \t\r\n")
		var v string
		if rest != "" && (rest[0] == '"' || rest[0] == '\'') {
			if k := strings.IndexByte(rest[1:], rest[0]); k >= 0 {
				v = rest[1 : 1+k]
			} else {
				v = rest[1:]
			}
		} else {
			k := strings.IndexAny(rest, " \t\r\n>")
			if k < 0 {
				k = len(rest)
			}
			v = rest[:k]
		}
		return strings.TrimSpace(html.UnescapeString(v))
	}
}
