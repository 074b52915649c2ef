package flowtests

import (
	"strings"

	"github.com/optinbot/optinbot/bot"
	"github.com/optinbot/optinbot/flows"
)

// BusinessSlug derives a business id from the flow's business name when no
// configuration names one: "Acme Outfitters" -> "acme-outfitters".
func BusinessSlug(f *flows.Flow) bot.BusinessID {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(f.Business) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
			dash = false
		case !dash && b.Len() > 0:
			b.WriteByte('-')
			dash = true
		}
	}
	slug := strings.TrimSuffix(b.String(), "-")
	if slug == "" {
		slug = f.Name
	}
	return bot.BusinessID(slug)
}
