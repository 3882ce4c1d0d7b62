package lists

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// bucketAudit holds the audit log: big-endian sequence number -> JSON
// AuditEntry, in the order the changes were made.
var bucketAudit = []byte("audit")

// Bounds on audit entries, so a hostile request cannot bloat the log.
const (
	maxAuditField  = 320
	maxAuditTarget = 1024
)

// AuditEntry records one change (or refused attempt at one) made through
// the service layer.
type AuditEntry struct {
	// Seq orders the entries; AppendAudit assigns it.
	Seq uint64 `json:"seq"`
	// Time is when the change was made (the transaction's time).
	Time time.Time `json:"time"`
	// Actor is the address of who asked (empty for the console and
	// tokens, which act for nobody in particular).
	Actor string `json:"actor,omitempty"`
	// Method is how the actor was authenticated: smtp, md5, pgp, smime,
	// token or console.
	Method string `json:"method"`
	// Via is the way in: cli, mail, api or web.
	Via string `json:"via"`
	// Token names the API token (never its secret).
	Token string `json:"token,omitempty"`
	// Scopes are a token's scopes.
	Scopes []string `json:"scopes,omitempty"`
	// Op is the operation, e.g. member.add.
	Op string `json:"op"`
	// List is the list's address (empty for site operations).
	List string `json:"list,omitempty"`
	// Target is what the operation was about, e.g. the member's address.
	Target string `json:"target,omitempty"`
	// Result is "ok" or the service's error code (forbidden, pending, ...).
	Result string `json:"result"`
}

func clipAudit(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	if len(s) > n {
		s = s[:n]
	}
	return s
}

// AppendAudit adds e to the audit log in this transaction, so that a
// change and its record are written together or not at all. It sets
// e.Seq and, when zero, e.Time.
func (tx *Tx) AppendAudit(e *AuditEntry) error {
	b, err := tx.createBucket(bucketAudit)
	if err != nil {
		return err
	}
	seq, err := b.NextSequence()
	if err != nil {
		return fmt.Errorf("audit sequence: %w", err)
	}
	e.Seq = seq
	if e.Time.IsZero() {
		e.Time = tx.now.UTC()
	}
	e.Actor = clipAudit(e.Actor, maxAuditField)
	e.Method = clipAudit(e.Method, maxAuditField)
	e.Via = clipAudit(e.Via, maxAuditField)
	e.Token = clipAudit(e.Token, maxAuditField)
	e.Op = clipAudit(e.Op, maxAuditField)
	e.List = clipAudit(e.List, maxAuditField)
	e.Target = clipAudit(e.Target, maxAuditTarget)
	e.Result = clipAudit(e.Result, maxAuditField)
	if len(e.Scopes) > 64 {
		e.Scopes = e.Scopes[:64]
	}
	for i := range e.Scopes {
		e.Scopes[i] = clipAudit(e.Scopes[i], maxAuditField)
	}
	var key [8]byte
	binary.BigEndian.PutUint64(key[:], seq)
	if err := putJSON(b, key[:], e); err != nil {
		return fmt.Errorf("append audit entry: %w", err)
	}
	return nil
}

// AuditFilter selects audit entries.
type AuditFilter struct {
	// List keeps only the entries about this list (any when empty).
	List string
	// Since keeps only the entries at or after it (any when zero).
	Since time.Time
	// Limit keeps only the last Limit entries (all when <= 0).
	Limit int
}

// Audit returns the audit entries f selects, oldest first.
func (tx *Tx) Audit(f AuditFilter) ([]*AuditEntry, error) {
	b := tx.btx.Bucket(bucketAudit)
	if b == nil {
		return nil, nil
	}
	var out []*AuditEntry
	err := b.ForEach(func(k, v []byte) error {
		e := &AuditEntry{}
		if err := json.Unmarshal(v, e); err != nil {
			return fmt.Errorf("audit entry %x: %w", k, err)
		}
		if f.List != "" && !strings.EqualFold(e.List, f.List) {
			return nil
		}
		if !f.Since.IsZero() && e.Time.Before(f.Since) {
			return nil
		}
		out = append(out, e)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if f.Limit > 0 && len(out) > f.Limit {
		out = out[len(out)-f.Limit:]
	}
	return out, nil
}
