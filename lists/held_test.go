package lists

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestHeld(t *testing.T) {
	const team = "team@lists.example.test"
	s, now := testStore(t)
	createList(t, s, team)
	createList(t, s, "other@lists.example.test")
	var firstID string
	tests := []struct {
		name string
		fn   func(tx *Tx) error
		err  error
		msg  string
	}{
		{"put with defaults", func(tx *Tx) error {
			h := &Held{List: "Team@lists.example.test", File: "queue/held/1+ab.msg", Meta: json.RawMessage(`{"id":"1+ab"}`),
				Sender: "eve@subs.test", Subject: "hello", Reason: "not a member", Rules: []string{"send"}}
			if err := tx.PutHeld(h); err != nil {
				return err
			}
			firstID = h.ID
			if len(h.ID) != 10 || h.List != team || !h.Received.Equal(*now) || !h.Expires.Equal(now.Add(14*24*time.Hour)) {
				return fmt.Errorf("defaults: %+v", h)
			}
			return nil
		}, nil, ""},
		{"read", func(tx *Tx) error {
			h, err := tx.Held(strings.ToUpper(firstID))
			if err != nil {
				return err
			}
			if h.Reason != "not a member" || string(h.Meta) != `{"id":"1+ab"}` || !slices.Equal(h.Rules, []string{"send"}) {
				return fmt.Errorf("read back %+v", h)
			}
			return nil
		}, nil, ""},
		{"put given ID, later, other list", func(tx *Tx) error {
			return tx.PutHeld(&Held{ID: "x2", List: "other@lists.example.test", File: "f2", Reason: "size",
				Received: now.Add(time.Hour), Expires: now.Add(2 * time.Hour)})
		}, nil, ""},
		{"put second for team, earlier", func(tx *Tx) error {
			return tx.PutHeld(&Held{ID: "x3", List: team, File: "f3", Reason: "size", Received: now.Add(-time.Hour)})
		}, nil, ""},
		{"unknown list", func(tx *Tx) error {
			return tx.PutHeld(&Held{List: "nope@lists.example.test", File: "f"})
		}, ErrNoList, ""},
		{"no file", func(tx *Tx) error { return tx.PutHeld(&Held{List: team}) }, nil, "no queue file"},
		{"bad meta", func(tx *Tx) error {
			return tx.PutHeld(&Held{List: team, File: "f", Meta: json.RawMessage("{")})
		}, nil, "not JSON"},
		{"bad id", func(tx *Tx) error { return tx.PutHeld(&Held{ID: "../x", List: team, File: "f"}) }, nil, "not allowed"},
		{"newline in subject", func(tx *Tx) error {
			return tx.PutHeld(&Held{List: team, File: "f", Subject: "a\r\nb"})
		}, nil, "control character"},
		{"too many rules", func(tx *Tx) error {
			return tx.PutHeld(&Held{List: team, File: "f", Rules: make([]string, 65)})
		}, nil, "rules"},
		{"held for team, oldest first", func(tx *Tx) error {
			hs, err := tx.HeldFor("TEAM@lists.example.test")
			if err != nil {
				return err
			}
			if len(hs) != 2 || hs[0].ID != "x3" || hs[1].ID != firstID {
				return fmt.Errorf("HeldFor = %v", ids(hs))
			}
			all, err := tx.HeldFor("")
			if err != nil || len(all) != 3 {
				return fmt.Errorf("HeldFor(all) = %v, %v", ids(all), err)
			}
			return nil
		}, nil, ""},
		{"expired", func(tx *Tx) error {
			hs, err := tx.ExpiredHeld(now.Add(2 * time.Hour))
			if err != nil {
				return err
			}
			if len(hs) != 1 || hs[0].ID != "x2" {
				return fmt.Errorf("ExpiredHeld = %v", ids(hs))
			}
			return nil
		}, nil, ""},
		{"delete", func(tx *Tx) error { return tx.DeleteHeld(firstID) }, nil, ""},
		{"delete again", func(tx *Tx) error { return tx.DeleteHeld(firstID) }, ErrNoHeld, ""},
		{"read deleted", func(tx *Tx) error {
			_, err := tx.Held(firstID)
			return err
		}, ErrNoHeld, ""},
		{"delete list drops its held records", func(tx *Tx) error { return tx.DeleteList(team) }, nil, ""},
		{"only other list's left", func(tx *Tx) error {
			all, err := tx.HeldFor("")
			if err != nil || len(all) != 1 || all[0].ID != "x2" {
				return fmt.Errorf("HeldFor(all) = %v, %v", ids(all), err)
			}
			return nil
		}, nil, ""},
	}
	for _, tt := range tests {
		checkStep(t, tt.name, s.Update(tt.fn), tt.err, tt.msg)
	}
}

func ids(hs []*Held) []string {
	var out []string
	for _, h := range hs {
		out = append(out, h.ID)
	}
	return out
}

// checkStep checks the outcome of one step of a table-driven sequence.
func checkStep(t *testing.T, name string, err, want error, msg string) {
	t.Helper()
	switch {
	case want != nil:
		if !errors.Is(err, want) {
			t.Fatalf("%s: got %v, want %v", name, err, want)
		}
	case msg != "":
		if err == nil || !strings.Contains(err.Error(), msg) {
			t.Fatalf("%s: got %v, want an error containing %q", name, err, msg)
		}
	case err != nil:
		t.Fatalf("%s: %v", name, err)
	}
}
