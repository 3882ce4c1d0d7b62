package bounce

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"errors"
	"strings"
	"time"

	"cloister/internal/listaddr"
)

// A VERP bounce address names the subscriber a copy was sent to and carries
// a MAC, like SRS, so that only the list's own bounce addresses count:
//
//	team-bounces+TTTMMMMMMMMMM-ann=example.org@lists.example.org
//	team-bounces+TTTMMMMMMMMMM@lists.example.org   (short form)
//
// TTT is the day the address was made (days since 1970, modulo 32768, three
// base32 digits) and MMMMMMMMMM the first 50 bits of HMAC-SHA-256 under the
// site's bounce secret over the list address, the subscriber address (both
// lower-cased: MTAs may change the case of local parts) and TTT, in base32.
// Everything is lower case, so an MTA that folds case breaks nothing. The
// short form, used when the long one would pass the 64 octets RFC 5321
// allows a local part or the subscriber address cannot be written in it,
// omits the subscriber: the bounce runner finds the member whose MAC it is.
const (
	// VERPDays is how many days a bounce address stays good: bounces that
	// come back later (MTAs give up after five days by default) are not
	// scored.
	VERPDays = 30

	tsLen    = 3
	macLen   = 10
	tagLen   = tsLen + macLen
	maxLocal = 64 // RFC 5321 section 4.5.3.1.1
	tsMod    = 1 << (5 * tsLen)
)

var b32alpha = "abcdefghijklmnopqrstuvwxyz234567"

var b32 = base32.NewEncoding(b32alpha).WithPadding(base32.NoPadding)

// Why a bounce address does not authenticate its bounce.
var (
	// ErrNoVERP means the address carries no signed VERP tag at all.
	ErrNoVERP = errors.New("bounce address carries no signed VERP tag")
	// ErrBadMAC means the tag does not verify for the subscriber it names
	// (or, in the short form, for any member).
	ErrBadMAC = errors.New("bounce address MAC does not verify")
	// ErrExpired means the MAC verifies but the address is older than VERPDays.
	ErrExpired = errors.New("bounce address expired")
)

func day(t time.Time) int {
	d := t.Unix() / 86400
	return int(((d % tsMod) + tsMod) % tsMod)
}

func stamp(d int) string {
	b := make([]byte, tsLen)
	for i := tsLen - 1; i >= 0; i-- {
		b[i] = b32alpha[d&31]
		d >>= 5
	}
	return string(b)
}

func unstamp(s string) (int, bool) {
	d := 0
	for i := 0; i < len(s); i++ {
		v := strings.IndexByte(b32alpha, s[i])
		if v < 0 {
			return 0, false
		}
		d = d<<5 | v
	}
	return d, true
}

// mac returns the MAC part of a tag for list, rcpt and a stamp.
func (s *Secret) mac(list, rcpt, ts string) string {
	h := hmac.New(sha256.New, s.key)
	h.Write([]byte("cloister verp v1\x00"))
	h.Write([]byte(strings.ToLower(list)))
	h.Write([]byte{0})
	h.Write([]byte(strings.ToLower(rcpt)))
	h.Write([]byte{0})
	h.Write([]byte(ts))
	return b32.EncodeToString(h.Sum(nil)[:7])[:macLen]
}

// Address returns the bounce address for the copy of a post of list sent to
// rcpt at now. When even the short form does not fit in 64 octets (a list
// whose local part is long), it is the plain LIST-bounces address, whose
// bounces are never scored.
func (s *Secret) Address(list, rcpt string, now time.Time) string {
	rcpt = strings.ToLower(rcpt)
	base := listaddr.Address(list, listaddr.SubBounces)
	at := strings.LastIndexByte(base, '@')
	if at < 0 {
		return base
	}
	ts := stamp(day(now))
	tag := ts + s.mac(list, rcpt, ts)
	if i := strings.LastIndexByte(rcpt, '@'); i > 0 && !strings.ContainsAny(rcpt, "+ \t\"\\") {
		if long := listaddr.AddressExt(list, listaddr.SubBounces, tag+"-"+rcpt[:i]+"="+rcpt[i+1:]); len(listaddr.LocalPart(long)) <= maxLocal {
			return long
		}
	}
	if short := listaddr.AddressExt(list, listaddr.SubBounces, tag); len(listaddr.LocalPart(short)) <= maxLocal {
		return short
	}
	return base
}

// Verify checks the extension of a LIST-bounces address (what followed '+',
// as deliver recorded it) and returns the subscriber it authenticates. For
// the short form, members is called for the list's member addresses and the
// one whose MAC it is is returned. The error says why nothing is
// authenticated: ErrNoVERP, ErrBadMAC or ErrExpired.
func (s *Secret) Verify(list, ext string, now time.Time, members func() ([]string, error)) (string, error) {
	ext = strings.ToLower(ext)
	if len(ext) < tagLen {
		return "", ErrNoVERP
	}
	tag, rest := ext[:tagLen], ext[tagLen:]
	if strings.Trim(tag, b32alpha) != "" {
		return "", ErrNoVERP
	}
	d, ok := unstamp(tag[:tsLen])
	if !ok {
		return "", ErrNoVERP
	}
	ts, given := tag[:tsLen], tag[tsLen:]
	var rcpt string
	switch {
	case rest == "":
		if members == nil {
			return "", ErrBadMAC
		}
		all, err := members()
		if err != nil {
			return "", err
		}
		for _, m := range all {
			if hmac.Equal([]byte(s.mac(list, m, ts)), []byte(given)) {
				rcpt = strings.ToLower(m)
				break
			}
		}
		if rcpt == "" {
			return "", ErrBadMAC
		}
	case rest[0] == '-':
		i := strings.LastIndexByte(rest, '=')
		if i <= 1 || i == len(rest)-1 {
			return "", ErrNoVERP
		}
		rcpt = rest[1:i] + "@" + rest[i+1:]
		if !hmac.Equal([]byte(s.mac(list, rcpt, ts)), []byte(given)) {
			return "", ErrBadMAC
		}
	default:
		return "", ErrNoVERP
	}
	if age := ((day(now)-d)%tsMod + tsMod) % tsMod; age > VERPDays {
		return "", ErrExpired
	}
	return rcpt, nil
}
