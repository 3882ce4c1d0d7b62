package lists

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestNewList(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.FixedZone("x", 3600))
	l, err := NewList("Team@Lists.Example.Test", now)
	if err != nil {
		t.Fatal(err)
	}
	if l.Address != "team@lists.example.test" || l.LocalPart() != "team" {
		t.Errorf("address %q local %q", l.Address, l.LocalPart())
	}
	if l.Settings.SubjectPrefix != "[team] " {
		t.Errorf("subject prefix %q", l.Settings.SubjectPrefix)
	}
	if !l.Created.Equal(now) || l.Created.Location() != time.UTC {
		t.Errorf("created %v", l.Created)
	}
	if _, err := NewList("team-request@lists.example.test", now); !errors.Is(err, ErrBadAddress) {
		t.Errorf("NewList of a reserved address: %v", err)
	}
}

func TestListCRUD(t *testing.T) {
	const team = "team@lists.example.test"
	tests := []struct {
		name string
		fn   func(tx *Tx) error
		err  error  // errors.Is target, nil for success
		msg  string // substring of the error
	}{
		{"create", func(tx *Tx) error {
			l, _ := NewList(team, tx.Now())
			l.Description = "The team"
			return tx.CreateList(l)
		}, nil, ""},
		{"create again", func(tx *Tx) error {
			l, _ := NewList("TEAM@lists.example.test", tx.Now())
			return tx.CreateList(l)
		}, ErrListExists, ""},
		{"create with bad setting", func(tx *Tx) error {
			l, _ := NewList("bad@lists.example.test", tx.Now())
			l.Settings.Archive = "sometimes"
			return tx.CreateList(l)
		}, ErrBadSetting, "archive"},
		{"create with control character in description", func(tx *Tx) error {
			l, _ := NewList("bad@lists.example.test", tx.Now())
			l.Description = "a\nb"
			return tx.CreateList(l)
		}, nil, "control character"},
		{"create with bad address", func(tx *Tx) error {
			return tx.CreateList(&List{Address: "team-owner@lists.example.test", Settings: DefaultSettings()})
		}, ErrBadAddress, ""},
		{"read", func(tx *Tx) error {
			l, err := tx.List("Team@Lists.Example.Test")
			if err != nil {
				return err
			}
			if l.Description != "The team" || l.Settings.Send != "send.private" || l.Created.IsZero() {
				return errors.New("read back a different list")
			}
			return nil
		}, nil, ""},
		{"put", func(tx *Tx) error {
			l, err := tx.List(team)
			if err != nil {
				return err
			}
			if err := l.Settings.Set("pgp_post_sign", "force"); err != nil {
				return err
			}
			return tx.PutList(l)
		}, nil, ""},
		{"put reads back", func(tx *Tx) error {
			l, err := tx.List(team)
			if err != nil {
				return err
			}
			if l.Settings.PGPPostSign != "force" {
				return errors.New("setting not stored")
			}
			return nil
		}, nil, ""},
		{"put unknown", func(tx *Tx) error {
			l, _ := NewList("other@lists.example.test", tx.Now())
			return tx.PutList(l)
		}, ErrNoList, ""},
		{"read unknown", func(tx *Tx) error {
			_, err := tx.List("other@lists.example.test")
			return err
		}, ErrNoList, ""},
		{"delete unknown", func(tx *Tx) error { return tx.DeleteList("other@lists.example.test") }, ErrNoList, ""},
		{"delete", func(tx *Tx) error { return tx.DeleteList(team) }, nil, ""},
		{"read deleted", func(tx *Tx) error {
			_, err := tx.List(team)
			return err
		}, ErrNoList, ""},
		{"members of deleted", func(tx *Tx) error {
			_, err := tx.Members(team)
			return err
		}, ErrNoList, ""},
	}
	s, _ := testStore(t)
	for _, tt := range tests {
		err := s.Update(tt.fn)
		if tt.err == nil && tt.msg == "" && err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if tt.err != nil && !errors.Is(err, tt.err) {
			t.Fatalf("%s: got %v, want %v", tt.name, err, tt.err)
		}
		if tt.msg != "" && (err == nil || !strings.Contains(err.Error(), tt.msg)) {
			t.Fatalf("%s: got %v, want an error containing %q", tt.name, err, tt.msg)
		}
	}
}

func TestListsSortedAndOldRecordsGetNewDefaults(t *testing.T) {
	s, _ := testStore(t)
	for _, a := range []string{"zeta@l.test", "alpha@l.test", "mid@l.test"} {
		createList(t, s, a)
	}
	// A record written before a setting existed: the setting takes its default.
	mustUpdate(t, s, func(tx *Tx) error {
		return tx.btx.Bucket(bucketLists).Put([]byte("old@l.test"), []byte(`{"address":"old@l.test","settings":{"send":"send.public"}}`))
	})
	err := s.View(func(tx *Tx) error {
		ls, err := tx.Lists()
		if err != nil {
			return err
		}
		var got []string
		for _, l := range ls {
			got = append(got, l.Address)
		}
		if want := []string{"alpha@l.test", "mid@l.test", "old@l.test", "zeta@l.test"}; !slices.Equal(got, want) {
			t.Errorf("Lists = %v, want %v", got, want)
		}
		old, err := tx.List("old@l.test")
		if err != nil {
			return err
		}
		if old.Settings.Send != "send.public" || old.Settings.BatchSize != 1 || !old.Settings.HiddenRecipients {
			t.Errorf("old record settings = %+v", old.Settings)
		}
		// The scenarios of the owner and moderator commands were fixed
		// before they were settings: older lists keep the same rules.
		if old.Settings.Admin != "admin.signed" || old.Settings.Moderate != "moderate.signed" {
			t.Errorf("old record: admin %q, moderate %q; want admin.signed, moderate.signed", old.Settings.Admin, old.Settings.Moderate)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
