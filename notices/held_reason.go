package notices

import (
	"encoding/json"
	"log/slog"

	"cloister/internal/refusal"
	"cloister/lists"
)

// maxReasonFormat bounds the reasons kept with a held post as formats
// (lists.Held.ReasonFormat); longer ones are kept only as English text.
const maxReasonFormat = 16 << 10

// ReasonFormat returns the JSON of a held post's reasons, or nil when it
// cannot be made or is too long (the notices then show the English text).
func ReasonFormat(rs refusal.Reasons) json.RawMessage {
	b, err := json.Marshal(rs)
	if err != nil || len(b) > maxReasonFormat {
		slog.Warn("held reason kept in English only", "reason", rs.String(), "err", err, "bytes", len(b))
		return nil
	}
	return b
}

// HeldReason returns what a notice about a held post shows as its reason:
// its refusal.Reasons, rendered in the list's language by translateReason, or
// the English text of a record held before reasons were kept as formats.
func HeldReason(h *lists.Held) any {
	if len(h.ReasonFormat) == 0 {
		return h.Reason
	}
	rs, err := refusal.ParseReasons(h.ReasonFormat)
	if err != nil {
		slog.Warn("held reason unreadable; shown in English", "held_id", h.ID, "err", err)
		return h.Reason
	}
	return rs
}
