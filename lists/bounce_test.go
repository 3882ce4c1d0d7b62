package lists

import (
	"errors"
	"testing"
	"time"
)

// TestAddBounce: one point per day, a stale score starts again, the
// threshold disables delivery once, and turning delivery back on starts a
// new score.
func TestAddBounce(t *testing.T) {
	day := func(d, h int) time.Time { return time.Date(2026, 11, d, h, 0, 0, 0, time.UTC) }
	type step struct {
		at                time.Time
		counted, disabled bool
		score             int
	}
	cases := []struct {
		name      string
		threshold int
		steps     []step
	}{
		{"one per day", 5, []step{{day(1, 8), true, false, 1}, {day(1, 20), false, false, 1}, {day(2, 1), true, false, 2}}},
		{"stale starts again", 5, []step{{day(1, 8), true, false, 1}, {day(2, 8), true, false, 2}, {day(10, 8), true, false, 1}}},
		{"threshold", 3, []step{{day(1, 8), true, false, 1}, {day(2, 8), true, false, 2}, {day(3, 8), true, true, 3}, {day(4, 8), true, false, 4}}},
		{"never", 0, []step{{day(1, 8), true, false, 1}, {day(2, 8), true, false, 2}, {day(3, 8), true, false, 3}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := &Member{Address: "bob@subs.test", Delivery: DeliveryEnabled}
			for i, s := range c.steps {
				counted, disabled := m.AddBounce(s.at, "5.1.1", c.threshold)
				if counted != s.counted || disabled != s.disabled || m.Bounces.Score != s.score {
					t.Fatalf("step %d: counted %v disabled %v score %d; want %v %v %d", i, counted, disabled, m.Bounces.Score, s.counted, s.disabled, s.score)
				}
			}
			if wantOff := c.threshold > 0 && len(c.steps) >= c.threshold; (m.Delivery == DeliveryDisabled) != wantOff {
				t.Fatalf("delivery %s", m.Delivery)
			}
		})
	}
	m := &Member{Address: "bob@subs.test", Delivery: DeliveryDigest}
	m.AddBounce(day(1, 8), "5.1.1", 1)
	if m.Delivery != DeliveryDisabled || m.Bounces.Disabled.IsZero() {
		t.Fatalf("digest member not disabled: %+v", m)
	}
	m.Delivery = DeliveryEnabled // the owner turns delivery back on
	if counted, disabled := m.AddBounce(day(1, 9), "5.1.1", 2); !counted || disabled || m.Bounces.Score != 1 {
		t.Fatalf("after re-enabling: %v %v %+v", counted, disabled, m.Bounces)
	}
}

// TestRecordBounce: the list's bounce_threshold applies and the record is
// stored with the member.
func TestRecordBounce(t *testing.T) {
	const team = "team@lists.example.test"
	s, _ := testStore(t)
	now := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	err := s.Update(func(tx *Tx) error {
		l, err := NewList(team, now)
		if err != nil {
			return err
		}
		if err := l.Settings.Set("bounce_threshold", "2"); err != nil {
			return err
		}
		if err := tx.CreateList(l); err != nil {
			return err
		}
		return tx.AddMember(team, &Member{Address: "bob@subs.test"})
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, wantOff := range []bool{false, true} {
		var r *BounceResult
		err := s.Update(func(tx *Tx) (err error) {
			r, err = tx.RecordBounce(team, "Bob@subs.test", now.AddDate(0, 0, i), "5.1.1")
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if r.Disabled != wantOff || r.Threshold != 2 || !r.Counted {
			t.Fatalf("bounce %d: %+v", i, r)
		}
	}
	err = s.View(func(tx *Tx) error {
		m, err := tx.Member(team, "bob@subs.test")
		if err != nil {
			return err
		}
		if m.Delivery != DeliveryDisabled || m.Bounces == nil || m.Bounces.Score != 2 || m.Bounces.Status != "5.1.1" {
			t.Fatalf("stored member %+v %+v", m, m.Bounces)
		}
		_, err = tx.RecordBounce(team, "nobody@subs.test", now, "")
		if !errors.Is(err, ErrNoMember) {
			t.Fatalf("unknown member: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
