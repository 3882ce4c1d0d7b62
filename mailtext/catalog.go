package mailtext

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"cloister/etc"
)

// CatalogFile is the name of a language's message catalogue, beside its
// templates: templates/<lang>/messages.po. It is a gettext PO file whose
// msgid is the English text (a fmt format, as the code writes it) and
// whose msgstr is its translation, with the same verbs (%s, %d, %q, %v;
// %[2]s to reorder them). An empty msgstr leaves the English text.
const CatalogFile = "messages.po"

// Catalog translates the short texts Cloister mails (command results, the
// help, refusal reasons) for one list. As with the templates, a message is
// looked up in the list's override catalogues, then the site's, then the
// built-in ones, each in the list's language, its base language, then
// English; a message no catalogue translates is its English text:
//
//	STATE/templates/LIST-ADDRESS/LANG/messages.po   per list
//	STATE/templates/LANG/messages.po                per site
//	etc/templates/LANG/messages.po                  built in
type Catalog struct {
	// chain holds the catalogues in the order they are tried.
	chain []map[string]string
}

// LoadCatalog loads the catalogues of a language from the override
// directories (Dirs) and the built-in tree. A broken override file is an
// error; the caller may fall back to English (a nil Catalog).
func LoadCatalog(dirs []string, lang string) (*Catalog, error) {
	c := &Catalog{}
	langs := languages(lang)
	for _, d := range dirs {
		for _, l := range langs {
			p := filepath.Join(d, l, CatalogFile)
			src, err := readLimited(p)
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if err != nil {
				return nil, err
			}
			m, err := ParsePO(src)
			if err != nil {
				return nil, fmt.Errorf("catalogue %s: %w", p, err)
			}
			c.chain = append(c.chain, m)
		}
	}
	for _, l := range langs {
		p := "templates/" + l + "/" + CatalogFile
		if src, err := fs.ReadFile(etc.Templates, p); err == nil {
			m, err := ParsePO(string(src))
			if err != nil {
				return nil, fmt.Errorf("catalogue etc/%s: %w", p, err)
			}
			c.chain = append(c.chain, m)
		}
	}
	return c, nil
}

// readLimited reads an override file of at most MaxTemplateSize*4 bytes.
func readLimited(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	var b strings.Builder
	buf := make([]byte, 32<<10)
	lim := &limitedFile{f, 4*MaxTemplateSize + 1}
	for {
		n, err := lim.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return "", fmt.Errorf("catalogue %s: %w", p, err)
		}
	}
	return b.String(), nil
}

// T returns the translation of the English text msg, or msg. A nil
// Catalog is English.
func (c *Catalog) T(msg string) string {
	if c == nil {
		return msg
	}
	for _, m := range c.chain {
		if t, ok := m[msg]; ok && t != "" {
			return t
		}
	}
	return msg
}

// Sprintf formats the translation of the English format with a.
func (c *Catalog) Sprintf(format string, a ...any) string {
	t := c.T(format)
	if len(a) == 0 {
		return t
	}
	return fmt.Sprintf(t, a...)
}

// ParsePO parses the msgid/msgstr pairs of a PO file (comments, msgctxt and
// plural forms are not used). Strings are Go-quoted as in PO ("\n", "\"",
// "\\", "\t") and may continue on following lines.
func ParsePO(src string) (map[string]string, error) {
	out := map[string]string{}
	var id, str *strings.Builder
	var cur *strings.Builder
	flush := func(line int) error {
		if id == nil {
			return nil
		}
		if str == nil {
			return fmt.Errorf("line %d: msgid without msgstr", line)
		}
		if k := id.String(); k != "" {
			if _, dup := out[k]; dup {
				return fmt.Errorf("line %d: msgid %q given twice", line, k)
			}
			out[k] = str.String()
		}
		id, str, cur = nil, nil, nil
		return nil
	}
	for i, raw := range strings.Split(src, "\n") {
		n := i + 1
		line := strings.TrimSpace(raw)
		var rest string
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
			continue
		case strings.HasPrefix(line, "msgid "):
			if err := flush(n); err != nil {
				return nil, err
			}
			id = &strings.Builder{}
			cur, rest = id, line[len("msgid "):]
		case strings.HasPrefix(line, "msgstr "):
			if id == nil || str != nil {
				return nil, fmt.Errorf("line %d: msgstr without msgid", n)
			}
			str = &strings.Builder{}
			cur, rest = str, line[len("msgstr "):]
		case strings.HasPrefix(line, `"`):
			if cur == nil {
				return nil, fmt.Errorf("line %d: string outside msgid or msgstr", n)
			}
			rest = line
		default:
			return nil, fmt.Errorf("line %d: not a PO line: %q", n, clip(line))
		}
		s, err := strconv.Unquote(strings.TrimSpace(rest))
		if err != nil || !strings.HasPrefix(strings.TrimSpace(rest), `"`) {
			return nil, fmt.Errorf("line %d: bad string %q", n, clip(rest))
		}
		cur.WriteString(s)
	}
	if err := flush(0); err != nil {
		return nil, err
	}
	return out, nil
}

func clip(s string) string {
	if len(s) > 60 {
		return s[:60] + "..."
	}
	return s
}
