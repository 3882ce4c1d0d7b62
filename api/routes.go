package api

import "slices"

// Routes is the route table: every endpoint of the API, from which the
// router and the OpenAPI document are built.
func Routes() []Route {
	return slices.Concat(listRoutes(), memberRoutes(), heldRoutes(), keyRoutes(), siteRoutes(), choreRoutes(), auditRoutes())
}

// Done is the answer of an operation that returns nothing else.
type Done struct {
	// OK is always true.
	OK bool `json:"ok"`
}
