package bot

import (
	"strings"
	"time"
)

// QualityRating is a sender number's quality rating as the provider rates
// it.
type QualityRating string

const (
	RatingGreen   QualityRating = "GREEN"
	RatingYellow  QualityRating = "YELLOW"
	RatingRed     QualityRating = "RED"
	RatingUnknown QualityRating = "UNKNOWN"
)

// Rank orders the ratings: 2 green, 1 yellow, 0 red, -1 unknown.
func (r QualityRating) Rank() int {
	switch r {
	case RatingGreen:
		return 2
	case RatingYellow:
		return 1
	case RatingRed:
		return 0
	}
	return -1
}

// QualityEvent is one report of a sender number's quality rating or
// messaging limit, as recorded.
type QualityEvent struct {
	ID         string // the provider event's id; a repeat is recorded once
	Business   BusinessID
	Provider   string
	Sender     string        // the number the provider named
	Rating     QualityRating // the rating after the event
	Event      string        // the provider's event: FLAGGED, UNFLAGGED, DOWNGRADE, UPGRADE…
	Tier       string        // the messaging limit after the event (TIER_1K…), "" when not reported
	ProviderAt time.Time     // when the provider says it happened
	RecordedAt time.Time     // when it was recorded
	// Downgrade is true when the rating or the messaging limit went down
	// (see ClassifyQuality).
	Downgrade bool
	// PreviousRating and PreviousTier are those of the event before, if any.
	PreviousRating QualityRating
	PreviousTier   string
}

// QualityFromDetail reads a provider event's details (Meta's
// phone_number_quality_update fields as strings) into an event's rating,
// event and tier. A detail naming the rating (quality_rating,
// current_quality_rating, new_quality_score) is taken as said; otherwise
// FLAGGED means red, UNFLAGGED green, and any other event keeps the
// previous rating (prev; RatingUnknown when there is none).
func QualityFromDetail(detail map[string]string, prev QualityRating) (rating QualityRating, event, tier string) {
	event = strings.ToUpper(strings.TrimSpace(detail["event"]))
	tier = strings.ToUpper(strings.TrimSpace(detail["current_limit"]))
	if tier == "" {
		if n := strings.TrimSpace(detail["max_daily_conversations_per_business"]); n != "" {
			tier = "LIMIT_" + n
		}
	}
	for _, k := range []string{"quality_rating", "current_quality_rating", "new_quality_score"} {
		if r := QualityRating(strings.ToUpper(strings.TrimSpace(detail[k]))); r.Rank() >= 0 {
			return r, event, tier
		}
	}
	switch event {
	case "FLAGGED":
		return RatingRed, event, tier
	case "UNFLAGGED":
		return RatingGreen, event, tier
	}
	if prev == "" {
		prev = RatingUnknown
	}
	return prev, event, tier
}

// tierRank orders messaging limits; -1 for one it does not know.
func tierRank(tier string) int {
	switch tier {
	case "TIER_50":
		return 1
	case "TIER_250":
		return 2
	case "TIER_1K":
		return 3
	case "TIER_2K":
		return 4
	case "TIER_10K":
		return 5
	case "TIER_100K":
		return 6
	case "TIER_UNLIMITED", "UNLIMITED":
		return 7
	}
	return -1
}

// ClassifyQuality sets e's previous rating and tier from prev (nil: none
// recorded) and whether e is a downgrade: the rating fell (green to yellow
// or red, yellow to red), the messaging limit fell, or the provider called
// it one (FLAGGED, DOWNGRADE). A first report counts as a downgrade only
// when it is red or the provider called it one.
func ClassifyQuality(prev *QualityEvent, e QualityEvent) QualityEvent {
	e.Downgrade = e.Event == "FLAGGED" || e.Event == "DOWNGRADE"
	if prev == nil {
		e.Downgrade = e.Downgrade || e.Rating == RatingRed
		return e
	}
	e.PreviousRating, e.PreviousTier = prev.Rating, prev.Tier
	if p, n := prev.Rating.Rank(), e.Rating.Rank(); p >= 0 && n >= 0 && n < p {
		e.Downgrade = true
	}
	if p, n := tierRank(prev.Tier), tierRank(e.Tier); p >= 0 && n >= 0 && n < p {
		e.Downgrade = true
	}
	return e
}

// TemplateCount is how many templates of a topic were sent.
type TemplateCount struct {
	Topic string `json:"topic"`
	Sent  int    `json:"sent"`
}

// PromptCount is how many answers to a flow version's opt-in prompt the
// ledger recorded, by the status they gave.
type PromptCount struct {
	Flow    string `json:"flow"`
	Version string `json:"version"`
	Status  string `json:"status"`
	Count   int    `json:"count"`
}

// QualityContext is what a business did in the hours before a quality
// event: the templates it sent, by topic, and the opt-in prompts its
// customers answered, by flow, version and answer.
type QualityContext struct {
	Since     time.Time       `json:"since"`
	Until     time.Time       `json:"until"`
	Templates []TemplateCount `json:"templates"`
	Prompts   []PromptCount   `json:"prompts"`
}
