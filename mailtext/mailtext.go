// Package mailtext renders the texts Cloister mails (notices, welcomes,
// confirmation requests) from templates, with per-list and site overrides
// and a language fallback.
//
// A text is rendered from templates/<lang>/<name>.tmpl
// (text/template), whose first line is "Subject: ..." and whose text after
// the first blank line is the body. A list's file overrides the site's, which
// overrides the built-in (etc/templates); within each, the list's language is
// tried, then its base language (pt for pt-BR), then English:
//
//	STATE/templates/LIST-ADDRESS/LANG/NAME.tmpl   per list
//	STATE/templates/LANG/NAME.tmpl                per site
//	etc/templates/LANG/NAME.tmpl                  built in
package mailtext

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"text/template"

	"cloister/etc"
	"cloister/mailmsg"
)

// MaxTemplateSize bounds an override file and a rendered text.
const MaxTemplateSize = 64 << 10

// Dirs returns the override directories of a list's texts, most specific
// first: the list's, then the site's, under the state directory.
func Dirs(stateDir, list string) []string {
	root := filepath.Join(stateDir, "templates")
	return []string{filepath.Join(root, strings.ToLower(list)), root}
}

// languages returns the fallback chain of a language tag.
func languages(lang string) []string {
	var out []string
	add := func(l string) {
		for _, o := range out {
			if o == l {
				return
			}
		}
		out = append(out, l)
	}
	if lang != "" {
		add(lang)
		if base, _, ok := strings.Cut(lang, "-"); ok {
			add(base)
		}
	}
	add("en")
	return out
}

// findTemplate returns the source of the most specific template.
func findTemplate(dirs []string, lang, name string) (string, string, error) {
	for _, d := range dirs {
		for _, l := range languages(lang) {
			p := filepath.Join(d, l, name+".tmpl")
			f, err := os.Open(p)
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if err != nil {
				return "", "", fmt.Errorf("template %s: %w", p, err)
			}
			var buf bytes.Buffer
			_, err = buf.ReadFrom(&limitedFile{f, MaxTemplateSize + 1})
			f.Close()
			if err != nil {
				return "", "", fmt.Errorf("template %s: %w", p, err)
			}
			if buf.Len() > MaxTemplateSize {
				return "", "", fmt.Errorf("template %s: larger than %d bytes", p, MaxTemplateSize)
			}
			return p, buf.String(), nil
		}
	}
	for _, l := range languages(lang) {
		p := "templates/" + l + "/" + name + ".tmpl"
		if src, err := fs.ReadFile(etc.Templates, p); err == nil {
			return "etc/" + p, string(src), nil
		}
	}
	return "", "", fmt.Errorf("no notice template %q", name)
}

type limitedFile struct {
	f *os.File
	n int64
}

func (l *limitedFile) Read(p []byte) (int, error) {
	if l.n <= 0 {
		return 0, fmt.Errorf("file too large")
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.f.Read(p)
	l.n -= int64(n)
	return n, err
}

// Render renders the template name from the first of dirs (then the
// built-in one) that has it in lang or its fallbacks, and returns the
// subject and the body.
func Render(dirs []string, lang, name string, data any) (subject, body string, err error) {
	path, src, err := findTemplate(dirs, lang, name)
	if err != nil {
		return "", "", err
	}
	// The Subject line is rendered on its own, so that a line break in a
	// field it shows (a post's decoded subject) cannot end it and start
	// the body; what it renders is made one line by mailmsg.CleanValue.
	headSrc, bodySrc, _ := strings.Cut(src, "\n")
	var parts [2]bytes.Buffer
	for i, part := range []string{headSrc, bodySrc} {
		t, err := template.New(name).Option("missingkey=error").Parse(part)
		if err != nil {
			return "", "", fmt.Errorf("template %s: %w", path, err)
		}
		if err := t.Execute(&parts[i], data); err != nil {
			return "", "", fmt.Errorf("template %s: %w", path, err)
		}
	}
	if parts[0].Len()+parts[1].Len() > MaxTemplateSize {
		return "", "", fmt.Errorf("template %s: notice larger than %d bytes", path, MaxTemplateSize)
	}
	subject, ok := strings.CutPrefix(parts[0].String(), "Subject: ")
	if !ok {
		return "", "", fmt.Errorf("template %s: first line must be \"Subject: ...\"", path)
	}
	body = strings.TrimLeft(parts[1].String(), "\n")
	return mailmsg.CleanValue(subject), body, nil
}
