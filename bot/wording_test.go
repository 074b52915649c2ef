package bot

import (
	"slices"
	"testing"

	"github.com/optinbot/optinbot/flows"
)

func TestDescriptionCore(t *testing.T) {
	for in, want := range map[string]string{
		"updates about your orders (confirmation, shipping and delivery)": "updates about your orders",
		"offers (sales) and (news (weekly)) tips":                         "offers and tips",
		"(only detail)":            "(only detail)",
		"unbalanced ) paren (rest": "unbalanced ) paren",
	} {
		if got := DescriptionCore(in); got != want {
			t.Errorf("DescriptionCore(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCheckWording(t *testing.T) {
	f, err := flows.Load("wording.yaml", []byte(`business: Acme Outfitters
language: en
topics:
  orders:
    category: utility
    description: {en: updates about your orders (shipping), es: novedades de tus pedidos}
    aliases: [order news]
  news: {category: marketing, description: "📰"}
states:
  ask:
    prompt: Hi
`))
	if err != nil {
		t.Fatal(err)
	}
	stop := []string{"stop"}
	for _, tc := range []struct {
		name, text, lang string
		topics           []flows.Topic
		want             Wording
	}{
		{"everything", "Updates about your orders from ACME-OUTFITTERS on WhatsApp? Reply STOP to opt out.", "en",
			[]flows.Topic{"orders"}, Wording{NamesBusiness: true, SaysWhatsApp: true, NamesOptOut: true}},
		{"business variable", "Order news from {{business}} on WhatsApp", "en",
			[]flows.Topic{"orders"}, Wording{NamesBusiness: true, SaysWhatsApp: true}},
		{"other variables count as nothing", "{{shop}} on {{channel}}: {{what}}", "en",
			[]flows.Topic{"orders"}, Wording{Undescribed: []flows.Topic{"orders"}}},
		{"an SMS list import", "imported from SMS list", "",
			[]flows.Topic{"orders"}, Wording{Undescribed: []flows.Topic{"orders"}}},
		{"a possessive is not the name", "Acme's order news on WhatsApp", "",
			[]flows.Topic{"orders"}, Wording{SaysWhatsApp: true}},
		{"description in the prompt's language only", "Novedades de tus pedidos de Acme Outfitters por WhatsApp", "en",
			[]flows.Topic{"orders"}, Wording{NamesBusiness: true, SaysWhatsApp: true, Undescribed: []flows.Topic{"orders"}}},
		{"any language for a grant", "Novedades de tus pedidos de Acme Outfitters por WhatsApp", "",
			[]flows.Topic{"orders"}, Wording{NamesBusiness: true, SaysWhatsApp: true}},
		{"an emoji description cannot be checked", "Acme Outfitters on WhatsApp", "",
			[]flows.Topic{"news"}, Wording{NamesBusiness: true, SaysWhatsApp: true}},
		{"an undeclared topic is never described", "Acme Outfitters on WhatsApp: nope", "",
			[]flows.Topic{"nope"}, Wording{NamesBusiness: true, SaysWhatsApp: true, Undescribed: []flows.Topic{"nope"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := CheckWording(f, tc.text, tc.lang, tc.topics, stop)
			if got.NamesBusiness != tc.want.NamesBusiness || got.SaysWhatsApp != tc.want.SaysWhatsApp ||
				got.NamesOptOut != tc.want.NamesOptOut || !slices.Equal(got.Undescribed, tc.want.Undescribed) {
				t.Errorf("CheckWording(%q) = %+v, want %+v", tc.text, got, tc.want)
			}
		})
	}
}
