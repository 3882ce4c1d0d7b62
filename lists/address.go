package lists

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"cloister/internal/listaddr"
)

// ErrBadAddress is wrapped by every address validation error.
var ErrBadAddress = errors.New("bad address")

// Limits on addresses (RFC 5321 section 4.5.3.1).
const (
	maxAddressLen = 254
	maxLocalLen   = 64
	maxDomainLen  = 253
)

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
	// The subaddresses deliver routes on (listaddr.Suffixes): a list named
	// team-sendkey would take the mail of team's -sendkey address.
	if suf, ok := listaddr.ReservedSuffix(local); ok {
		return "", fmt.Errorf("%w: list address %q may not end in %s (reserved for the subaddresses of lists)", ErrBadAddress, a, suf)
	}
	return a, nil
}

// subaddressCollision refuses a new list whose address is a subaddress of
// an existing list, or one of whose subaddresses is an existing list (a
// list made before its name was reserved): deliver would route the mail of
// one to the other. exists reports whether a list address is taken.
func subaddressCollision(addr string, exists func(string) bool) error {
	at := strings.LastIndexByte(addr, '@')
	if at < 0 {
		return nil
	}
	local, domain := addr[:at], addr[at:]
	for _, s := range listaddr.Suffixes {
		if other := local + s.Suffix + domain; exists(other) {
			return fmt.Errorf("%w: list %s exists and would take the mail of %s", ErrBadAddress, other, addr+"'s "+s.Sub+" address")
		}
		if base, ok := strings.CutSuffix(local, s.Suffix); ok && base != "" && exists(base+domain) {
			return fmt.Errorf("%w: %s is the %s address of list %s", ErrBadAddress, addr, s.Sub, base+domain)
		}
	}
	return nil
}

// localPart returns the part of a canonical address before the last '@'.
func localPart(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		return addr[:i]
	}
	return addr
}
