// Package businessapi is the business's HTTP JSON API, served by
// optinbot serve: a customer's current consent and history, the ledger
// export, and sending messages through the policy guard.
//
// Every request carries a business API key (Authorization: Bearer
// obk_…), and every path names the business it acts for: a key acts only
// for its own business, so one deployment serves several businesses and no
// key reads or changes another's customers. docs/api.md documents each
// endpoint with examples a test runs.
package businessapi
