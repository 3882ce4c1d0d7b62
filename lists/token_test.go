package lists

import (
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestTokens(t *testing.T) {
	const team = "team@lists.example.test"
	s, now := testStore(t)
	createList(t, s, team)
	newToken := func(action string, ttl time.Duration) string {
		t.Helper()
		var v string
		mustUpdate(t, s, func(tx *Tx) error {
			tok := &Token{List: team, Address: "ann@subs.test", Action: action, Data: "queue/x.msg"}
			err := tx.NewToken(tok, ttl)
			v = tok.Value
			return err
		})
		return v
	}
	short := newToken("subscribe", time.Hour)
	def := newToken("send", 0)
	other := newToken("approve", time.Hour)
	use := func(v string) (*Token, error) {
		var tok *Token
		err := s.Update(func(tx *Tx) error {
			var err error
			tok, err = tx.UseToken(v)
			return err
		})
		return tok, err
	}

	if !regexp.MustCompile(`^[a-z2-7]{32}$`).MatchString(short) {
		t.Fatalf("token %q is not 32 lower-case base32 characters (160 bits)", short)
	}
	if short == def || short == other {
		t.Fatal("two tokens are equal")
	}
	tests := []struct {
		name  string
		value string
		at    time.Time
		err   error
	}{
		{"unknown", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", *now, ErrNoToken},
		{"empty", "", *now, ErrNoToken},
		{"too long", strings.Repeat("a", 65), *now, ErrNoToken},
		{"first use, upper case as mailed back", strings.ToUpper(short), now.Add(time.Minute), nil},
		{"second use", short, now.Add(2 * time.Minute), ErrTokenUsed},
		{"expired at ttl", other, now.Add(time.Hour), ErrTokenExpired},
		{"default ttl (72 h) still valid", def, now.Add(71 * time.Hour), nil},
	}
	for _, tt := range tests {
		*now = tt.at
		tok, err := use(tt.value)
		if !errors.Is(err, tt.err) {
			t.Fatalf("%s: UseToken = %v, want %v", tt.name, err, tt.err)
		}
		if tt.err == nil && (tok.Used.IsZero() || tok.List != team || tok.Data != "queue/x.msg") {
			t.Fatalf("%s: token %+v", tt.name, tok)
		}
	}
	// A token cannot be spent in a View.
	fresh := newToken("x", time.Hour)
	if err := s.View(func(tx *Tx) error {
		_, err := tx.UseToken(fresh)
		return err
	}); err == nil {
		t.Fatal("UseToken in a View succeeded")
	}
	// Purge drops tokens expired before the cut, used or not.
	*now = now.Add(2 * time.Hour)
	mustUpdate(t, s, func(tx *Tx) error {
		n, err := tx.PurgeTokens(*now)
		if err != nil {
			return err
		}
		if n != 4 { // short, def, other, the one from the View: all expired
			t.Errorf("PurgeTokens deleted %d, want 4", n)
		}
		_, err = tx.Token(short)
		if !errors.Is(err, ErrNoToken) {
			t.Errorf("purged token: %v", err)
		}
		return nil
	})
}

func TestNewTokenChecks(t *testing.T) {
	s, _ := testStore(t)
	createList(t, s, "team@lists.example.test")
	tests := []struct {
		name string
		tok  Token
		err  error
		msg  string
	}{
		{"no list", Token{List: "nope@lists.example.test", Address: "a@b.test", Action: "x"}, ErrNoList, ""},
		{"no action", Token{List: "team@lists.example.test", Address: "a@b.test"}, nil, "bad action"},
		{"bad address", Token{List: "team@lists.example.test", Address: "a b", Action: "x"}, ErrBadAddress, ""},
		{"data too big", Token{List: "team@lists.example.test", Address: "a@b.test", Action: "x", Data: strings.Repeat("x", 70000)}, nil, "data longer"},
		{"ok", Token{List: "TEAM@lists.example.test", Address: "a@b.test", Action: "x"}, nil, ""},
	}
	for _, tt := range tests {
		err := s.Update(func(tx *Tx) error { return tx.NewToken(&tt.tok, time.Hour) })
		checkStep(t, tt.name, err, tt.err, tt.msg)
	}
}
