package lists

import (
	"errors"
	"path/filepath"
	"testing"
	"time"
)

// TestKeyRequests: a request is stored with an ID, found by its list only,
// replaced when asked again for the same key, expires, and is deleted
// with its list.
func TestKeyRequests(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "cloister.db"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	s.Now = func() time.Time { return now }
	err = s.Update(func(tx *Tx) error {
		for _, a := range []string{"team@lists.test", "other@lists.test"} {
			l, err := NewList(a, now)
			if err != nil {
				return err
			}
			if err := tx.CreateList(l); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	r := &KeyRequest{List: "team@lists.test", Address: "Dan@Else.test", Key: "KEY", Fingerprint: "abcd", Mode: EnrolOwner, Via: "key set"}
	if err := s.Update(func(tx *Tx) error { return tx.PutKeyRequest(r) }); err != nil {
		t.Fatal(err)
	}
	first := r.ID
	if first == "" || r.Address != "dan@else.test" || r.Fingerprint != "ABCD" || !r.Expires.After(now) {
		t.Fatalf("stored %+v", r)
	}
	again := &KeyRequest{List: "team@lists.test", Address: "dan@else.test", Key: "KEY", Fingerprint: "ABCD", Mode: EnrolOwner}
	if err := s.Update(func(tx *Tx) error { return tx.PutKeyRequest(again) }); err != nil {
		t.Fatal(err)
	}
	s.View(func(tx *Tx) error {
		all, err := tx.KeyRequestsFor("team@lists.test")
		if err != nil || len(all) != 1 || all[0].ID != again.ID {
			t.Errorf("requests = %+v, %v; want only %s", all, err, again.ID)
		}
		if _, err := tx.KeyRequest("team@lists.test", first); !errors.Is(err, ErrNoKeyRequest) {
			t.Errorf("replaced request still found: %v", err)
		}
		if _, err := tx.KeyRequest("other@lists.test", again.ID); !errors.Is(err, ErrNoKeyRequest) {
			t.Errorf("request found through another list: %v", err)
		}
		if got, err := tx.KeyRequest("team@lists.test", again.ID); err != nil || got.Key != "KEY" {
			t.Errorf("request = %+v, %v", got, err)
		}
		return nil
	})
	now = again.Expires
	s.View(func(tx *Tx) error {
		if _, err := tx.KeyRequest("team@lists.test", again.ID); !errors.Is(err, ErrNoKeyRequest) {
			t.Errorf("expired request found: %v", err)
		}
		return nil
	})
	// A new request deletes the expired one.
	other := &KeyRequest{List: "other@lists.test", Address: "eve@else.test", Key: "KEY2", Fingerprint: "EF01", Mode: EnrolVouched}
	if err := s.Update(func(tx *Tx) error { return tx.PutKeyRequest(other) }); err != nil {
		t.Fatal(err)
	}
	s.View(func(tx *Tx) error {
		if all, _ := tx.keyRequestsWhere(func(*KeyRequest) bool { return true }); len(all) != 1 || all[0].ID != other.ID {
			t.Errorf("requests after an expired one = %+v, want only %s", all, other.ID)
		}
		return nil
	})
	if err := s.Update(func(tx *Tx) error { return tx.DeleteList("other@lists.test") }); err != nil {
		t.Fatal(err)
	}
	if err := s.Update(func(tx *Tx) error { return tx.DeleteList("team@lists.test") }); err != nil {
		t.Fatal(err)
	}
	s.View(func(tx *Tx) error {
		if all, _ := tx.keyRequestsWhere(func(*KeyRequest) bool { return true }); len(all) != 0 {
			t.Errorf("requests left after the list was deleted: %+v", all)
		}
		return nil
	})
}
