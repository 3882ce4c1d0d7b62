// Package bounce reads delivery failure reports: RFC 3464 delivery status
// notifications (Postfix, Exim, Gmail and most MTAs today) and the common
// plain-text bounces that predate them (Exim's "Mail delivery failed",
// qmail-send's "Hi. This is the qmail-send program", Gmail's "Delivery to the
// following recipient failed permanently").
package bounce

import (
	"errors"
	"regexp"
	"strings"
)

// Bounds on what Parse reads.
const (
	// MaxInput is how much of a report Parse reads; the rest (usually the
	// returned message) is ignored.
	MaxInput = 1 << 20
	// MaxRecipients is how many recipients one report may name.
	MaxRecipients = 100
	maxDepth      = 8
	maxParts      = 100
	maxDiagnostic = 400
)

// ErrNotBounce means the message is not a delivery report Parse recognises
// (an auto-reply, spam to the bounce address, an unknown format).
var ErrNotBounce = errors.New("not a recognised delivery report")

// Recipient is one address a report speaks of.
type Recipient struct {
	// Address is the recipient as the report names it, lower-cased.
	Address string
	// Action is the RFC 3464 action: failed, delayed, delivered, relayed or
	// expanded. Text bounces give failed or delayed.
	Action string
	// Status is the enhanced status code (RFC 3463) such as 5.1.1, when known.
	Status string
	// Diagnostic is the remote server's reply or the report's reason, on one
	// line, clipped.
	Diagnostic string
	// Permanent reports whether delivery to the address failed for good (the
	// MTA gave up); delays and successes are not permanent.
	Permanent bool
}

// Report is a parsed delivery report.
type Report struct {
	// Format says how the report was read: dsn, exim, qmail or gmail.
	Format string
	// Recipients are the addresses the report speaks of, in order.
	Recipients []Recipient
}

// Failed returns the recipients whose delivery failed permanently.
func (r *Report) Failed() []Recipient {
	var out []Recipient
	for _, x := range r.Recipients {
		if x.Permanent {
			out = append(out, x)
		}
	}
	return out
}

// Parse reads a delivery report: an RFC 3464 multipart/report (or a bare
// message/delivery-status) first, then the known plain-text formats. It
// returns ErrNotBounce for anything else. It never reads more than MaxInput
// bytes of msg, nor names more than MaxRecipients recipients.
func Parse(msg []byte) (*Report, error) {
	if len(msg) > MaxInput {
		msg = msg[:MaxInput]
	}
	if r, ok := parseDSN(msg); ok {
		return r, nil
	}
	text, subject := plainText(msg)
	for _, p := range textParsers {
		if r, ok := p(text, subject); ok && len(r.Recipients) > 0 {
			return r, nil
		}
	}
	return nil, ErrNotBounce
}

var (
	statusRE = regexp.MustCompile(`\b([245])\.(\d{1,3})\.(\d{1,3})\b`)
	replyRE  = regexp.MustCompile(`\b([245])\d\d[ -]`)
)

// statusIn finds an enhanced status code, or a class from a basic SMTP
// reply code ("550 " gives 5.0.0), in a diagnostic text.
func statusIn(s string) string {
	if m := statusRE.FindString(s); m != "" {
		return m
	}
	if m := replyRE.FindStringSubmatch(s); m != nil {
		return m[1] + ".0.0"
	}
	return ""
}

// oneLine joins whitespace and clips a diagnostic to maxDiagnostic bytes
// of printable text.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
	if len(s) > maxDiagnostic {
		s = s[:maxDiagnostic]
		for len(s) > 0 && s[len(s)-1]&0xc0 == 0x80 {
			s = s[:len(s)-1]
		}
		if len(s) > 0 && s[len(s)-1] >= 0xc0 {
			s = s[:len(s)-1]
		}
	}
	return s
}

// cleanAddress returns a plausible mail address from a report's field value
// ("rfc822; <Bob@X.test>" gives bob@x.test), or "".
func cleanAddress(v string) string {
	v = strings.TrimSpace(v)
	if t, rest, ok := strings.Cut(v, ";"); ok && !strings.Contains(t, "@") {
		v = strings.TrimSpace(rest)
	}
	v = strings.Trim(v, "<>\"' \t:")
	if i := strings.LastIndexByte(v, '<'); i >= 0 {
		v = strings.Trim(v[i:], "<> ")
	}
	local, domain, ok := strings.Cut(v, "@")
	if !ok || local == "" || domain == "" || len(v) > 254 || strings.ContainsAny(v, " \t\r\n<>,;()[]\\\"") || strings.Contains(domain, "@") {
		return ""
	}
	return strings.ToLower(v)
}
