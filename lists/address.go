package lists

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ErrBadAddress is wrapped by every address validation error.
var ErrBadAddress = errors.New("bad address")

// Limits on addresses (RFC 5321 section 4.5.3.1).
const (
	maxAddressLen = 254
	maxLocalLen   = 64
	maxDomainLen  = 253
)

// reservedSuffixes are the subaddresses deliver routes on (DESIGN.md section
// 4): a list's posting address may not end in one of them.
var reservedSuffixes = []string{"-request", "-owner", "-bounces", "-confirm", "-join", "-leave"}

// CanonicalAddress checks a bare mail address (local@domain, no display name,
// no angle brackets) and returns its lower-cased form, which is how lists and
// members are keyed.
func CanonicalAddress(addr string) (string, error) {
	a := strings.TrimSpace(addr)
	if err := checkAddress(a); err != nil {
		return "", err
	}
	return strings.ToLower(a), nil
}

func checkAddress(a string) error {
	if a == "" {
		return fmt.Errorf("%w: empty", ErrBadAddress)
	}
	if len(a) > maxAddressLen {
		return fmt.Errorf("%w: longer than %d bytes", ErrBadAddress, maxAddressLen)
	}
	if !utf8.ValidString(a) {
		return fmt.Errorf("%w: %q is not UTF-8", ErrBadAddress, a)
	}
	at := strings.LastIndexByte(a, '@')
	if at < 0 {
		return fmt.Errorf("%w: %q has no @", ErrBadAddress, a)
	}
	local, domain := a[:at], a[at+1:]
	if local == "" || len(local) > maxLocalLen {
		return fmt.Errorf("%w: %q: local part must be 1 to %d bytes", ErrBadAddress, a, maxLocalLen)
	}
	if domain == "" || len(domain) > maxDomainLen {
		return fmt.Errorf("%w: %q: domain must be 1 to %d bytes", ErrBadAddress, a, maxDomainLen)
	}
	for _, r := range local {
		if unicode.IsSpace(r) || unicode.IsControl(r) || strings.ContainsRune(`<>()[]\,;:"@`, r) {
			return fmt.Errorf("%w: %q: character %q not allowed in the local part", ErrBadAddress, a, r)
		}
	}
	if strings.HasPrefix(local, ".") || strings.HasSuffix(local, ".") || strings.Contains(local, "..") {
		return fmt.Errorf("%w: %q: misplaced dot in the local part", ErrBadAddress, a)
	}
	for _, label := range strings.Split(domain, ".") {
		if label == "" || strings.HasPrefix(label, "-") || strings.HasSuffix(label, "-") {
			return fmt.Errorf("%w: %q: bad domain label %q", ErrBadAddress, a, label)
		}
		for _, r := range label {
			if r != '-' && !unicode.IsLetter(r) && !unicode.IsDigit(r) {
				return fmt.Errorf("%w: %q: character %q not allowed in the domain", ErrBadAddress, a, r)
			}
		}
	}
	return nil
}

// CanonicalListAddress is CanonicalAddress plus the rules for a list's posting
// address: its local part contains no '+' (the token separator) and does not
// end in a subaddress suffix such as -request or -owner.
func CanonicalListAddress(addr string) (string, error) {
	a, err := CanonicalAddress(addr)
	if err != nil {
		return "", err
	}
	local := a[:strings.LastIndexByte(a, '@')]
	if strings.Contains(local, "+") {
		return "", fmt.Errorf("%w: list address %q may not contain '+'", ErrBadAddress, a)
	}
	for _, suf := range reservedSuffixes {
		if strings.HasSuffix(local, suf) {
			return "", fmt.Errorf("%w: list address %q may not end in %s (reserved for commands)", ErrBadAddress, a, suf)
		}
	}
	return a, nil
}

// localPart returns the part of a canonical address before the last '@'.
func localPart(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		return addr[:i]
	}
	return addr
}
