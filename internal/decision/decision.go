// Package decision is the closed vocabulary of the runners' decision log
// lines (message "decision", attribute "decision"): one constant, and one
// spelling, per outcome. The per-list logs (internal/listlog), the demo and
// the operators' greps read these words; docs/operators.md lists them.
package decision

// Decision is what a runner decided about one entry.
type Decision int

// The decisions, in the order a post meets the runners.
const (
	// Accept: the rules let a post through to the pipeline.
	Accept Decision = iota + 1
	// Reject: a post is refused (by the rules, a handler or a moderator);
	// the sender is told unless the list must stay quiet.
	Reject
	// Discard: a post or command mail is dropped without a word (by the
	// rules, a handler, the loop check or a moderator).
	Discard
	// Hold: a post waits for a moderator.
	Hold
	// RequestAuth: a post waits for its sender to confirm it.
	RequestAuth
	// Approved: a moderator let a held post through.
	Approved
	// Expired: a held post waited too long and was dropped.
	Expired
	// Refused: mail to an address that takes none is refused.
	Refused
	// RefusalNotAnswered: a refusal is not answered (notice limit reached).
	RefusalNotAnswered
	// ForwardedToOwners: mail for the owners was passed on to them.
	ForwardedToOwners
	// OwnerMailNotForwarded: mail for the owners was not passed on (virus scan).
	OwnerMailNotForwarded
	// OwnerMailKeptInBad: mail for the owners of a list with no owner is kept.
	OwnerMailKeptInBad
	// Commands: a command mail was carried out.
	Commands
	// NoReply: a command mail gets no answer.
	NoReply
	// AttachListKey: the list's key is attached to a post that asked for it.
	AttachListKey
	// Resend: a post's resend orders were carried out.
	Resend
	// Distribute: the pipeline hands a post to archive and outgoing.
	Distribute
	// Archived: the archive stored a post.
	Archived
	// NotArchived: the archive could not store a post.
	NotArchived
	// ArchiveExpired: the archive dropped posts older than archive_keep_days.
	ArchiveExpired
	// Digest: a digest issue was sent.
	Digest
	// Delivered: outgoing handed copies to the MTA.
	Delivered
	// BounceRecorded: a bounce was matched to a subscriber.
	BounceRecorded
	// BounceDropped: a bounce was dropped.
	BounceDropped
	// BounceNotScored: a bounce does not count against a subscriber.
	BounceNotScored
	// BounceScored: a bounce raised a subscriber's score.
	BounceScored
	// CoverScheduled: cover traffic was scheduled for a list.
	CoverScheduled
	// Cover: a cover (dummy) post was sent.
	Cover
	// CoverStopped: cover traffic for a list stopped.
	CoverStopped
	// KeyExpiryNotice: a notice of a key about to expire was sent.
	KeyExpiryNotice
)

// names spells each decision as its log lines show it.
var names = [...]string{
	Accept:                "accept",
	Reject:                "reject",
	Discard:               "discard",
	Hold:                  "hold",
	RequestAuth:           "request_auth",
	Approved:              "approved",
	Expired:               "expired",
	Refused:               "refused",
	RefusalNotAnswered:    "refusal not answered",
	ForwardedToOwners:     "forwarded to owners",
	OwnerMailNotForwarded: "owner mail not forwarded",
	OwnerMailKeptInBad:    "owner mail kept in bad",
	Commands:              "commands",
	NoReply:               "no reply",
	AttachListKey:         "attach-listkey",
	Resend:                "resend",
	Distribute:            "distribute",
	Archived:              "archived",
	NotArchived:           "not archived",
	ArchiveExpired:        "archive expired",
	Digest:                "digest",
	Delivered:             "delivered",
	BounceRecorded:        "bounce recorded",
	BounceDropped:         "bounce dropped",
	BounceNotScored:       "bounce not scored",
	BounceScored:          "bounce scored",
	CoverScheduled:        "cover scheduled",
	Cover:                 "cover",
	CoverStopped:          "cover stopped",
	KeyExpiryNotice:       "key-expiry-notice",
}

// All returns every decision, in order.
func All() []Decision {
	all := make([]Decision, 0, len(names)-1)
	for d := Accept; int(d) < len(names); d++ {
		all = append(all, d)
	}
	return all
}

// String returns the decision as its log lines spell it.
func (d Decision) String() string {
	if d <= 0 || int(d) >= len(names) {
		return "unknown"
	}
	return names[d]
}

// MarshalText implements encoding.TextMarshaler: JSON and text logs carry
// the spelling, not the number.
func (d Decision) MarshalText() ([]byte, error) { return []byte(d.String()), nil }
