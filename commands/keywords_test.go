package commands

import (
	"slices"
	"strings"
	"testing"

	"cloister/lists"
)

// TestKeywordSettingsNameEveryCommand keeps the words keywords_admin_only
// and keywords_admin_notify accept the same as the command table.
func TestKeywordSettingsNameEveryCommand(t *testing.T) {
	var names []string
	for _, c := range All {
		names = append(names, c.Name())
	}
	slices.Sort(names)
	d := lists.DefaultSettings()
	seen := 0
	for _, f := range d.Fields() {
		if f.Name != "keywords_admin_only" && f.Name != "keywords_admin_notify" {
			continue
		}
		seen++
		words := strings.Fields(strings.TrimPrefix(strings.Split(f.Allowed, ",")[0], "any of "))
		slices.Sort(words)
		if !slices.Equal(words, names) {
			t.Errorf("%s accepts %v, the commands are %v", f.Name, words, names)
		}
	}
	if seen != 2 {
		t.Errorf("found %d of the two keyword settings", seen)
	}
}

func TestHasWordAndClip(t *testing.T) {
	for _, c := range []struct {
		setting, word string
		want          bool
	}{
		{"who keys", "keys", true}, {"who keys", "key", false}, {"", "who", false}, {"sign", "sign", true},
	} {
		if got := hasWord(c.setting, c.word); got != c.want {
			t.Errorf("hasWord(%q, %q) = %v", c.setting, c.word, got)
		}
	}
	if got := clip("héllo", 2); got != "h..." {
		t.Errorf("clip cut a character: %q", got)
	}
}

// TestSignTakesRest: the lines after sign (or x-sign-this) are its text, up
// to the signature separator, and no command is read from them.
func TestSignTakesRest(t *testing.T) {
	for _, word := range []string{"sign", "x-sign-this"} {
		p, err := Parse([]byte("From: a@b\nSubject: x\n\nwho\n" + word + "\nremove bob@x\n\n> quoted\n-- \nsig\n"))
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Lines) != 2 || p.Lines[1].Word != word {
			t.Fatalf("%s: lines %+v", word, p.Lines)
		}
		if got := strings.Join(p.Lines[1].Rest, "|"); got != "remove bob@x||> quoted" {
			t.Errorf("%s: rest %q", word, got)
		}
	}
}
