package api

import (
	"net/http"

	"cloister/service"
)

func siteRoutes() []Route {
	return []Route{
		op(http.MethodGet, "/v1/lists/{list}/bounces", "bounceList", "The bounce state of a list's members", ScopeRead,
			func(c *Call, _ none) ([]service.BounceInfo, error) {
				return c.Svc.BounceList(c.Ctx, c.Actor, service.ListRef{List: c.Path("list")})
			}),
		op(http.MethodGet, "/v1/queues", "queueStatus", "Every queue's depth and oldest entry", ScopeAdmin,
			func(c *Call, _ none) ([]service.QueueInfo, error) {
				return c.Svc.QueueStatus(c.Ctx, c.Actor)
			}),
		op(http.MethodGet, "/v1/queues/{queue}", "queueEntries", "The entries of one queue by their metadata", ScopeAdmin,
			func(c *Call, _ none) ([]service.QueueEntry, error) {
				return c.Svc.QueueEntries(c.Ctx, c.Actor, service.QueueRef{Queue: c.Path("queue")})
			}),
	}
}
