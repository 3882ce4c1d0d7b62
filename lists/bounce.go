package lists

import (
	"fmt"
	"time"
)

// BounceStaleAfter is how long a bounce score lasts: a bounce more than this
// after the last counted one starts the score again from zero (Mailman's
// bounce_info_stale_after).
const BounceStaleAfter = 7 * 24 * time.Hour

// Bounces is a member's bounce record: each UTC day with a permanent
// delivery failure adds one to Score.
type Bounces struct {
	// Score is the number of days with a counted bounce.
	Score int `json:"score"`
	// Last is when the last counted bounce arrived.
	Last time.Time `json:"last"`
	// Status is the last bounce's status code (such as 5.1.1), if known.
	Status string `json:"status,omitempty"`
	// Disabled is when delivery was disabled because of bounces (zero when
	// it was not).
	Disabled time.Time `json:"disabled,omitzero"`
}

// AddBounce counts a permanent delivery failure at time at: at most one per
// UTC day, starting again from zero when the last one is older than
// BounceStaleAfter or delivery was turned back on since bounces disabled it.
// When the score reaches threshold (0: never) delivery is disabled.
// counted says whether the score grew, disabled whether this bounce
// disabled delivery.
func (m *Member) AddBounce(at time.Time, status string, threshold int) (counted, disabled bool) {
	at = at.UTC()
	b := m.Bounces
	if b == nil || !b.Disabled.IsZero() && m.Delivery != DeliveryDisabled || at.Sub(b.Last) > BounceStaleAfter {
		b = &Bounces{}
		m.Bounces = b
	}
	if len(status) > 16 {
		status = status[:16]
	}
	if b.Score > 0 && sameDay(b.Last, at) {
		b.Status = status
		return false, false
	}
	b.Score++
	b.Last, b.Status = at, status
	if threshold > 0 && b.Score >= threshold && m.Delivery != DeliveryDisabled {
		m.Delivery = DeliveryDisabled
		b.Disabled = at
		return true, true
	}
	return true, false
}

func sameDay(a, b time.Time) bool {
	ay, am, ad := a.UTC().Date()
	by, bm, bd := b.UTC().Date()
	return ay == by && am == bm && ad == bd
}

// BounceResult is what RecordBounce did to a member.
type BounceResult struct {
	// Member is the member as stored after the bounce.
	Member *Member
	// Counted says whether the bounce raised the score (one per day).
	Counted bool
	// Disabled says whether this bounce disabled the member's delivery.
	Disabled bool
	// Threshold is the list's bounce_threshold.
	Threshold int
}

// RecordBounce counts a permanent delivery failure for a member of list at
// time at (see Member.AddBounce), with the list's bounce_threshold, and
// stores the member (ErrNoMember if the address is not on the roster).
func (tx *Tx) RecordBounce(list, address string, at time.Time, status string) (*BounceResult, error) {
	l, err := tx.List(list)
	if err != nil {
		return nil, err
	}
	m, err := tx.Member(l.Address, address)
	if err != nil {
		return nil, err
	}
	r := &BounceResult{Member: m, Threshold: l.Settings.BounceThreshold}
	r.Counted, r.Disabled = m.AddBounce(at, status, l.Settings.BounceThreshold)
	if err := tx.PutMember(l.Address, m); err != nil {
		return nil, fmt.Errorf("record bounce of %s: %w", address, err)
	}
	return r, nil
}
