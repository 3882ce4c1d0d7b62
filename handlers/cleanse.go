package handlers

import "strings"

// Cleanse removes header fields that must not reach subscribers: approval
// passwords, read-receipt requests (which would mail every subscriber's
// receipt to the author), the cover traffic marker (Cloister-Cover, which
// subscribers' filters drop) and Cloister's own internal X-Cloister-* fields.
type Cleanse struct{}

// cleansedFields are removed by Cleanse (compared case-insensitively).
var cleansedFields = []string{
	"Approved", "Approve", "X-Approved", "X-Approve",
	"Urgent",
	"Return-Receipt-To", "Disposition-Notification-To", "Disposition-Notification-Options",
	"X-Confirm-Reading-To", "X-PMRQC",
	// The cover runner's marker: only its dummy posts may carry it.
	"Cloister-Cover",
}

// Name implements Handler.
func (Cleanse) Name() string { return "cleanse" }

// Description implements Handler.
func (Cleanse) Description() string {
	return "remove approval passwords, read-receipt requests and internal X-Cloister-* header fields"
}

// Process implements Handler.
func (h Cleanse) Process(ctx *Context) error {
	m := ctx.Msg
	for _, name := range cleansedFields {
		m.Del(name)
	}
	out := m.Fields[:0]
	for _, f := range m.Fields {
		if !strings.HasPrefix(strings.ToLower(f.Name), "x-cloister-") {
			out = append(out, f)
		}
	}
	m.Fields = out
	return nil
}
