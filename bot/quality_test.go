package bot

import "testing"

// TestClassifyQuality: a rating or messaging limit that falls, or the
// provider's FLAGGED and DOWNGRADE, is a downgrade; recoveries and first
// green reports are not.
func TestClassifyQuality(t *testing.T) {
	green1k := &QualityEvent{Rating: RatingGreen, Tier: "TIER_1K"}
	yellow1k := &QualityEvent{Rating: RatingYellow, Tier: "TIER_1K"}
	red := &QualityEvent{Rating: RatingRed, Tier: "TIER_1K"}
	for _, tt := range []struct {
		name   string
		prev   *QualityEvent
		detail map[string]string
		rating QualityRating
		tier   string
		down   bool
	}{
		{"first FLAGGED", nil, map[string]string{"event": "FLAGGED", "current_limit": "TIER_1K"}, RatingRed, "TIER_1K", true},
		{"first ONBOARDING", nil, map[string]string{"event": "ONBOARDING", "current_limit": "TIER_250"}, RatingUnknown, "TIER_250", false},
		{"first green by name", nil, map[string]string{"event": "UPGRADE", "quality_rating": "green"}, RatingGreen, "", false},
		{"green to yellow", green1k, map[string]string{"event": "ONBOARDING", "quality_rating": "YELLOW", "current_limit": "TIER_1K"}, RatingYellow, "TIER_1K", true},
		{"yellow to red", yellow1k, map[string]string{"event": "FLAGGED", "current_limit": "TIER_1K"}, RatingRed, "TIER_1K", true},
		{"red to green", red, map[string]string{"event": "UNFLAGGED", "current_limit": "TIER_1K"}, RatingGreen, "TIER_1K", false},
		{"tier drop keeps the rating", green1k, map[string]string{"event": "DOWNGRADE", "current_limit": "TIER_250"}, RatingGreen, "TIER_250", true},
		{"tier drop without the word", green1k, map[string]string{"event": "ONBOARDING", "current_limit": "TIER_50"}, RatingGreen, "TIER_50", true},
		{"tier raise", green1k, map[string]string{"event": "UPGRADE", "current_limit": "TIER_10K"}, RatingGreen, "TIER_10K", false},
		{"limit as a number", nil, map[string]string{"event": "UPGRADE", "max_daily_conversations_per_business": "2000"}, RatingUnknown, "LIMIT_2000", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var was QualityRating
			if tt.prev != nil {
				was = tt.prev.Rating
			}
			rating, event, tier := QualityFromDetail(tt.detail, was)
			got := ClassifyQuality(tt.prev, QualityEvent{Rating: rating, Event: event, Tier: tier})
			if got.Rating != tt.rating || got.Tier != tt.tier || got.Downgrade != tt.down {
				t.Errorf("got rating %s tier %s downgrade %v, want %s %s %v", got.Rating, got.Tier, got.Downgrade, tt.rating, tt.tier, tt.down)
			}
			if tt.prev != nil && (got.PreviousRating != tt.prev.Rating || got.PreviousTier != tt.prev.Tier) {
				t.Errorf("previous %s %s, want %s %s", got.PreviousRating, got.PreviousTier, tt.prev.Rating, tt.prev.Tier)
			}
		})
	}
	if RatingGreen.Rank() != 2 || RatingYellow.Rank() != 1 || RatingRed.Rank() != 0 || RatingUnknown.Rank() != -1 {
		t.Error("ranks: want green 2, yellow 1, red 0, unknown -1")
	}
}
