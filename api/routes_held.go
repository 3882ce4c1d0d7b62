package api

import (
	"net/http"

	"cloister/service"
)

// RejectBody gives a rejection's reason (optional).
type RejectBody struct {
	// Reason is sent to the author in the rejection notice.
	Reason string `json:"reason,omitempty"`
}

func heldRoutes() []Route {
	ref := func(c *Call) service.HeldRef { return service.HeldRef{List: c.Path("list"), ID: c.Path("id")} }
	return []Route{
		op(http.MethodGet, "/v1/lists/{list}/held", "heldList", "A list's held posts (headers only)", ScopeModerator,
			func(c *Call, _ none) ([]service.HeldInfo, error) {
				return c.Svc.HeldList(c.Ctx, c.Actor, service.HeldListRequest{List: c.Path("list")})
			}),
		op(http.MethodGet, "/v1/lists/{list}/held/{id}", "heldShow", "One held post: why it was held, its headers, and its text unless it arrived encrypted", ScopeModerator,
			func(c *Call, _ none) (service.HeldPost, error) {
				return c.Svc.HeldShow(c.Ctx, c.Actor, ref(c))
			}),
		op(http.MethodPost, "/v1/lists/{list}/held/{id}/approve", "heldApprove", "Approve a held post: it is distributed", ScopeModerator,
			func(c *Call, _ none) (Done, error) {
				err := c.Svc.HeldApprove(c.Ctx, c.Actor, ref(c))
				return Done{OK: err == nil}, err
			}),
		op(http.MethodPost, "/v1/lists/{list}/held/{id}/reject", "heldReject", "Reject a held post: its author gets a notice", ScopeModerator,
			func(c *Call, b RejectBody) (Done, error) {
				r := ref(c)
				err := c.Svc.HeldReject(c.Ctx, c.Actor, service.HeldRejectRequest{List: r.List, ID: r.ID, Reason: b.Reason})
				return Done{OK: err == nil}, err
			}).optional(),
		op(http.MethodPost, "/v1/lists/{list}/held/{id}/discard", "heldDiscard", "Discard a held post silently", ScopeModerator,
			func(c *Call, _ none) (Done, error) {
				err := c.Svc.HeldDiscard(c.Ctx, c.Actor, ref(c))
				return Done{OK: err == nil}, err
			}),
	}
}
