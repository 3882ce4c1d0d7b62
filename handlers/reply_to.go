package handlers

import (
	"fmt"
	"strings"
)

// ReplyTo sets the Reply-To of distributed posts from the list's reply_to
// setting: none leaves it as sent, list points it at the list, sender at the
// author's From, anything else is an explicit address.
type ReplyTo struct{}

// Name implements Handler.
func (ReplyTo) Name() string { return "reply-to" }

// Description implements Handler.
func (ReplyTo) Description() string {
	return "set Reply-To to the list, the sender or a fixed address (setting reply_to)"
}

// Process implements Handler.
func (h ReplyTo) Process(ctx *Context) error {
	v := strings.TrimSpace(ctx.settings().ReplyTo)
	switch strings.ToLower(v) {
	case "", "none":
		return nil
	case "list":
		if ctx.listAddress() == "" {
			return fmt.Errorf("reply-to list: the list has no address")
		}
		ctx.Msg.Set("Reply-To", "<"+ctx.listAddress()+">")
	case "sender":
		from := ctx.Msg.Get("From")
		if from == "" {
			return nil
		}
		ctx.Msg.Set("Reply-To", from)
	default:
		if strings.ContainsAny(v, "\r\n") || !strings.Contains(v, "@") {
			return fmt.Errorf("reply-to: setting %q is not an address", v)
		}
		ctx.Msg.Set("Reply-To", "<"+v+">")
	}
	return nil
}
