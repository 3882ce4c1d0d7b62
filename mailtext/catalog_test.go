package mailtext

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"

	"cloister/etc"
)

func builtin(t *testing.T, lang string) map[string]string {
	t.Helper()
	src, err := fs.ReadFile(etc.Templates, "templates/"+lang+"/"+CatalogFile)
	if err != nil {
		t.Fatalf("%s: %v", lang, err)
	}
	m, err := ParsePO(string(src))
	if err != nil {
		t.Fatalf("%s/%s: %v", lang, CatalogFile, err)
	}
	return m
}

// verbs returns the argument index and verb of every formatting directive
// of a fmt format, sorted by index.
func verbs(format string) ([]string, error) {
	var out []string
	next := 1
	for i := 0; i < len(format); i++ {
		if format[i] != '%' {
			continue
		}
		i++
		if i >= len(format) {
			return nil, fmt.Errorf("%% at the end")
		}
		if format[i] == '%' {
			continue
		}
		for i < len(format) && strings.IndexByte("+-# 0123456789.", format[i]) >= 0 {
			i++
		}
		if i < len(format) && format[i] == '[' {
			end := strings.IndexByte(format[i:], ']')
			if end < 0 {
				return nil, fmt.Errorf("unclosed [")
			}
			n, err := strconv.Atoi(format[i+1 : i+end])
			if err != nil {
				return nil, fmt.Errorf("bad index %q", format[i:i+end+1])
			}
			next = n
			i += end + 1
		}
		if i >= len(format) {
			return nil, fmt.Errorf("verb missing")
		}
		out = append(out, fmt.Sprintf("%d:%c", next, format[i]))
		next++
	}
	sort.Strings(out)
	return out, nil
}

// TestCatalogsTranslateEveryMessage: every English message of the built-in
// catalogue has a German and a French translation that takes the same
// arguments with the same verbs, and renders.
func TestCatalogsTranslateEveryMessage(t *testing.T) {
	en := builtin(t, "en")
	if len(en) < 100 {
		t.Fatalf("only %d English messages", len(en))
	}
	for _, lang := range []string{"de", "fr"} {
		tr := builtin(t, lang)
		for id := range en {
			s, ok := tr[id]
			if !ok || s == "" {
				t.Errorf("%s lacks a translation of %q", lang, id)
				continue
			}
			want, err := verbs(id)
			if err != nil {
				t.Fatalf("en %q: %v", id, err)
			}
			got, err := verbs(s)
			if err != nil || !reflect.DeepEqual(got, want) {
				t.Errorf("%s %q takes %v (%v), English %q takes %v", lang, s, got, err, id, want)
				continue
			}
			args := make([]any, len(want))
			for i, v := range want {
				if strings.HasSuffix(v, "d") {
					args[i] = 7
				} else {
					args[i] = "ARG"
				}
			}
			if out := fmt.Sprintf(s, args...); strings.Contains(out, "%!") {
				t.Errorf("%s %q renders as %q", lang, s, out)
			}
		}
		for id := range tr {
			if _, ok := en[id]; !ok {
				t.Errorf("%s translates %q, which is not an English message", lang, id)
			}
		}
	}
}

func TestParsePO(t *testing.T) {
	tests := []struct {
		src  string
		want map[string]string
		err  bool
	}{
		{"# c\nmsgid \"a %s\"\nmsgstr \"b %s\"\n", map[string]string{"a %s": "b %s"}, false},
		{"msgid \"\"\nmsgstr \"header\"\n", map[string]string{}, false},
		{"msgid \"a\\n\"\n\"b\"\nmsgstr \"x\"\n\"y\\\"\"\n", map[string]string{"a\nb": "xy\""}, false},
		{"msgid \"a\"\n", nil, true},
		{"msgstr \"a\"\n", nil, true},
		{"msgid \"a\"\nmsgstr \"b\"\nmsgid \"a\"\nmsgstr \"c\"\n", nil, true},
		{"msgid a\nmsgstr \"b\"\n", nil, true},
		{"msgid \"a\"\nmsgstr \"b\"\nbogus\n", nil, true},
		{"\"a\"\n", nil, true},
	}
	for _, tt := range tests {
		got, err := ParsePO(tt.src)
		if (err != nil) != tt.err || (!tt.err && !reflect.DeepEqual(got, tt.want)) {
			t.Errorf("ParsePO(%q) = %v, %v; want %v, error %v", tt.src, got, err, tt.want, tt.err)
		}
	}
}

func TestCatalogFallbackAndOverrides(t *testing.T) {
	dir := t.TempDir()
	site := filepath.Join(dir, "templates")
	list := filepath.Join(site, "team@lists.test")
	write := func(p, s string) {
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(site, "fr", CatalogFile), "msgid \"unknown token (check that it was copied whole)\"\nmsgstr \"jeton du site\"\n")
	write(filepath.Join(list, "de", CatalogFile), "msgid \"confirmed\"\nmsgstr \"erledigt\"\n")
	dirs := Dirs(dir, "Team@Lists.Test")
	tests := []struct {
		dirs           []string
		lang, id, want string
	}{
		{nil, "de", "unknown token (check that it was copied whole)", "unbekanntes Token (prüfen Sie, ob es vollständig kopiert wurde)"},
		{nil, "de-CH", "unknown token (check that it was copied whole)", "unbekanntes Token (prüfen Sie, ob es vollständig kopiert wurde)"},
		{nil, "fr-CA", "unknown token (check that it was copied whole)", "jeton inconnu (vérifiez qu'il a été copié en entier)"},
		{nil, "pt-BR", "unknown token (check that it was copied whole)", "unknown token (check that it was copied whole)"},
		{nil, "", "unknown token (check that it was copied whole)", "unknown token (check that it was copied whole)"},
		{nil, "fr", "no such message", "no such message"},
		{dirs, "fr", "unknown token (check that it was copied whole)", "jeton du site"}, // the site's French beats the built-in French
		{dirs, "fr", "confirmed", "confirmé"}, // not overridden: built in
		{dirs, "de", "confirmed", "erledigt"}, // the list's German beats the built-in
		{dirs, "de", "unknown token (check that it was copied whole)", "unbekanntes Token (prüfen Sie, ob es vollständig kopiert wurde)"}, // the site's French is not German
	}
	for _, tt := range tests {
		c, err := LoadCatalog(tt.dirs, tt.lang)
		if err != nil {
			t.Fatal(err)
		}
		if got := c.T(tt.id); got != tt.want {
			t.Errorf("T(%v, %s, %q) = %q; want %q", tt.dirs != nil, tt.lang, tt.id, got, tt.want)
		}
	}
	var nilCat *Catalog
	if got := nilCat.Sprintf("%d posts", 3); got != "3 posts" {
		t.Errorf("nil catalogue: %q", got)
	}
	write(filepath.Join(list, "fr", CatalogFile), "msgid \"x\"\n")
	if _, err := LoadCatalog(dirs, "fr"); err == nil || !strings.Contains(err.Error(), CatalogFile) {
		t.Errorf("broken override: %v", err)
	}
}
