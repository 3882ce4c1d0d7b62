package rules

import "fmt"

// Scan is the virus scanner's verdict on a post, filled in by the rules
// runner (which talks to clamd) before the chain runs; nil when the post was
// not scanned (the site names no clamd, the list's virus_scan is no, or
// clamd was down and the site's clamd_unavailable is accept).
type Scan struct {
	// Infected reports that the scanner found a signature, named in Signature.
	Infected  bool
	Signature string
	// TooLarge reports that the post was not scanned because it is larger
	// than the scanner takes; Limit is that limit in bytes (0: clamd's own
	// StreamMaxLength).
	TooLarge bool
	Limit    int64
}

// VirusScan fires on a post the site's virus scanner (clamd) found infected.
// It runs after decryption, so an encrypted post is scanned in its
// plaintext, which travels to clamd over its socket only. Its action is the
// list's virus_action (ListActions).
type VirusScan struct{}

// Name implements Rule.
func (VirusScan) Name() string { return "virus-scan" }

// Description implements Rule.
func (VirusScan) Description() string {
	return "the site's virus scanner found a virus or other malware in the post; virus_action chooses the action"
}

// Check implements Rule.
func (VirusScan) Check(p *Post) Result {
	if p.Scan == nil || !p.Scan.Infected {
		return miss
	}
	return hit("the site's virus scanner found %s in the post", p.Scan.Signature)
}

// VirusUnscanned fires on a post the virus scanner could not take because it
// is too large: it is held rather than passed on unscanned.
type VirusUnscanned struct{}

// Name implements Rule.
func (VirusUnscanned) Name() string { return "virus-unscanned" }

// Description implements Rule.
func (VirusUnscanned) Description() string {
	return "the post is larger than the site's virus scanner takes, so it was not scanned"
}

// Check implements Rule.
func (VirusUnscanned) Check(p *Post) Result {
	if p.Scan == nil || !p.Scan.TooLarge {
		return miss
	}
	if p.Scan.Limit > 0 {
		return hit("the post is %s, more than the virus scanner's limit of %s, so it was not scanned", kib(int64(len(p.Body))), kib(p.Scan.Limit))
	}
	return hit("the post is %s, more than the virus scanner takes, so it was not scanned", kib(int64(len(p.Body))))
}

func kib(n int64) string { return fmt.Sprintf("%d KiB", (n+1023)/1024) }
