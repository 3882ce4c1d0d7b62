package runners

import (
	"time"

	"cloister/ownmail"
	"cloister/queue"
)

// MetaFrom returns the metadata of the notice as an outgoing entry derived
// from the entry from; content tells that the notice holds content of it
// (ownmail.Meta).
func (n *Notice) MetaFrom(kind string, from *queue.Meta, content bool, rcpts ...string) *queue.Meta {
	return ownmail.Meta(n.List, kind, from, content, time.Now(), rcpts...)
}
