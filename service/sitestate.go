package service

import (
	"context"
	"fmt"
	"strings"
	"time"

	"cloister/lists"
	"cloister/queue"
)

// QueueInfo is the depth of one queue.
type QueueInfo struct {
	Name    string `json:"name"`
	Pending int    `json:"pending"`
	Claimed int    `json:"claimed"`
	// OldestSeconds is the age of the oldest entry.
	OldestSeconds int64 `json:"oldest_seconds"`
}

// QueueRef names a queue.
type QueueRef struct {
	Queue string `json:"queue"`
}

// QueueEntry is one entry of a queue, by its metadata (never its body).
type QueueEntry struct {
	Name       string `json:"name"`
	List       string `json:"list,omitempty"`
	Subaddress string `json:"subaddress,omitempty"`
	From       string `json:"from,omitempty"`
	Attempts   int    `json:"attempts"`
	// Reason is why the entry is where it is (bad, retry), if recorded.
	Reason string `json:"reason,omitempty"`
	// Error is set when the entry could not be read.
	Error string `json:"error,omitempty"`
	// Meta is the entry's whole metadata (history, verdicts, rules that
	// fired); nil when it could not be read.
	Meta *queue.Meta `json:"meta,omitempty"`
}

// BounceInfo is a member's bounce state.
type BounceInfo struct {
	Address  string    `json:"address"`
	Delivery string    `json:"delivery"`
	Score    int       `json:"score"`
	Last     time.Time `json:"last"`
	Status   string    `json:"status,omitempty"`
	Disabled time.Time `json:"disabled,omitzero"`
}

var (
	opQueueStatus = Op{"queue.status", ClassSite, ""}
	opBounceList  = Op{"bounce.list", ClassRead, OpAdmin}
)

// QueueStatus returns the depth of every queue (site admins).
func (s *Service) QueueStatus(ctx context.Context, a Actor) ([]QueueInfo, error) {
	if err := s.authorize(a, opQueueStatus, nil); err != nil {
		return nil, err
	}
	var out []QueueInfo
	for _, name := range queue.Dirs() {
		q := s.site.Queue(name)
		p, err := q.Pending(queue.All)
		if err != nil {
			return nil, internal(err, "read the queues")
		}
		b, err := q.Claimed(queue.All)
		if err != nil {
			return nil, internal(err, "read the queues")
		}
		age, _ := q.Oldest(s.now())
		out = append(out, QueueInfo{Name: name, Pending: len(p), Claimed: len(b), OldestSeconds: int64(age.Round(time.Second) / time.Second)})
	}
	return out, nil
}

// QueueEntries lists the pending entries of one queue by their metadata
// (site admins).
func (s *Service) QueueEntries(ctx context.Context, a Actor, req QueueRef) ([]QueueEntry, error) {
	if err := s.authorize(a, opQueueStatus, nil); err != nil {
		return nil, err
	}
	var q *queue.Queue
	for _, n := range queue.Dirs() {
		if n == req.Queue {
			q = s.site.Queue(n)
		}
	}
	if q == nil {
		return nil, errorf(CodeNotFound, "no queue named %q (queues: %s)", req.Queue, strings.Join(queue.Names, ", "))
	}
	names, err := q.Pending(queue.All)
	if err != nil {
		return nil, internal(err, "read the queue")
	}
	out := []QueueEntry{}
	for _, n := range names {
		e, err := q.Peek(n)
		if err != nil {
			out = append(out, QueueEntry{Name: n, Error: fmt.Sprint(err)})
			continue
		}
		m := e.Meta
		from := m.From
		if from == "" {
			from = m.Sender
		}
		reason := m.Reason
		if reason == "" {
			reason = m.LastError
		}
		out = append(out, QueueEntry{Name: n, List: m.List, Subaddress: m.Subaddress, From: from, Attempts: m.Attempts, Reason: reason, Meta: m})
	}
	return out, nil
}

// BounceList returns the bounce state of a list's members that bounced.
func (s *Service) BounceList(ctx context.Context, a Actor, req ListRef) ([]BounceInfo, error) {
	l, err := s.loadList(req.List)
	if err != nil {
		return nil, err
	}
	if err := s.authorize(a, opBounceList, l); err != nil {
		return nil, err
	}
	out := []BounceInfo{}
	err = s.site.Lists.View(func(tx *lists.Tx) error {
		return tx.ForEachMember(l.Address, func(m *lists.Member) error {
			if m.Bounces == nil {
				return nil
			}
			b := m.Bounces
			out = append(out, BounceInfo{Address: m.Address, Delivery: string(m.Delivery), Score: b.Score, Last: b.Last, Status: b.Status, Disabled: b.Disabled})
			return nil
		})
	})
	if err != nil {
		return nil, storeError(err, "read the bounces")
	}
	return out, nil
}
