package bot

// HandoffWording is the wording of the handoff notices in one language.
// {business} is the business name.
type HandoffWording struct {
	Started  string // a person will take over (messages: handoff)
	TimedOut string // nobody did in time; the bot is back (handoff_timeout)
	Released string // an agent handed back; the bot is back (handoff_released)
}

// defaultHandoffWording is the engine's wording of the handoff notices, by
// language. A flow's messages override it.
var defaultHandoffWording = map[string]HandoffWording{
	"en": {
		Started:  "Connecting you with a person from {business}. They'll reply here as soon as they can.",
		TimedOut: "Sorry, nobody from {business} could reply in time. You're back with our automated assistant.",
		Released: "You're back with the {business} automated assistant.",
	},
	"es": {
		Started:  "Te estamos conectando con una persona de {business}. Te responderá aquí lo antes posible.",
		TimedOut: "Lo sentimos, nadie de {business} pudo responder a tiempo. Vuelves a hablar con nuestro asistente automático.",
		Released: "Vuelves a hablar con el asistente automático de {business}.",
	},
	"fr": {
		Started:  "Nous vous mettons en relation avec une personne de {business}. Elle vous répondra ici dès que possible.",
		TimedOut: "Désolé, personne chez {business} n'a pu répondre à temps. Vous êtes de nouveau avec notre assistant automatique.",
		Released: "Vous êtes de nouveau avec l'assistant automatique de {business}.",
	},
	"pt": {
		Started:  "Estamos conectando você com uma pessoa de {business}. Ela vai responder aqui assim que possível.",
		TimedOut: "Desculpe, ninguém de {business} conseguiu responder a tempo. Você está de volta com nosso assistente automático.",
		Released: "Você está de volta com o assistente automático de {business}.",
	},
	"de": {
		Started:  "Wir verbinden Sie mit einer Person von {business}. Sie erhalten hier so bald wie möglich eine Antwort.",
		TimedOut: "Leider konnte niemand von {business} rechtzeitig antworten. Sie sind wieder bei unserem automatischen Assistenten.",
		Released: "Sie sind wieder beim automatischen Assistenten von {business}.",
	},
	"it": {
		Started:  "Ti stiamo mettendo in contatto con una persona di {business}. Ti risponderà qui il prima possibile.",
		TimedOut: "Ci dispiace, nessuno di {business} ha potuto rispondere in tempo. Sei di nuovo con il nostro assistente automatico.",
		Released: "Sei di nuovo con l'assistente automatico di {business}.",
	},
	"ar": {
		Started:  "جارٍ توصيلك بأحد موظفي {business}. سيرد عليك هنا في أقرب وقت ممكن.",
		TimedOut: "عذرًا، لم يتمكن أحد من {business} من الرد في الوقت المناسب. عدت الآن إلى مساعدنا الآلي.",
		Released: "عدت الآن إلى المساعد الآلي لدى {business}.",
	},
	"hi": {
		Started:  "हम आपको {business} के एक व्यक्ति से जोड़ रहे हैं। वे जल्द से जल्द यहीं जवाब देंगे।",
		TimedOut: "क्षमा करें, {business} से कोई समय पर जवाब नहीं दे सका। अब आप फिर से हमारे स्वचालित सहायक से बात कर रहे हैं।",
		Released: "अब आप फिर से {business} के स्वचालित सहायक से बात कर रहे हैं।",
	},
	"id": {
		Started:  "Kami sedang menghubungkan Anda dengan petugas {business}. Mereka akan membalas di sini secepatnya.",
		TimedOut: "Maaf, belum ada petugas {business} yang bisa membalas tepat waktu. Anda kembali terhubung dengan asisten otomatis kami.",
		Released: "Anda kembali terhubung dengan asisten otomatis {business}.",
	},
	"zh": {
		Started:  "正在为您转接{business}的人工客服，对方会尽快在这里回复您。",
		TimedOut: "抱歉，{business}暂时没有人能及时回复。现在由我们的自动助手继续为您服务。",
		Released: "现在由{business}的自动助手继续为您服务。",
	},
	"ja": {
		Started:  "{business}の担当者におつなぎしています。できるだけ早くこちらで返信いたします。",
		TimedOut: "申し訳ありません。{business}の担当者が時間内に返信できませんでした。自動アシスタントが引き続き対応いたします。",
		Released: "ここからは{business}の自動アシスタントが対応いたします。",
	},
	"ru": {
		Started:  "Соединяем вас с сотрудником {business}. Он ответит вам здесь как можно скорее.",
		TimedOut: "К сожалению, никто из {business} не успел ответить. Вы снова общаетесь с нашим автоматическим помощником.",
		Released: "Вы снова общаетесь с автоматическим помощником {business}.",
	},
	"tr": {
		Started:  "Sizi {business} ekibinden bir kişiye bağlıyoruz. En kısa sürede buradan yanıt verecekler.",
		TimedOut: "Üzgünüz, {business} ekibinden kimse zamanında yanıt veremedi. Yeniden otomatik asistanımızla görüşüyorsunuz.",
		Released: "Yeniden {business} otomatik asistanıyla görüşüyorsunuz.",
	},
}

// HandoffDefaults returns the engine's default wording of the handoff
// notices in a language (a 2-3 letter code), if it has one.
func HandoffDefaults(lang string) (HandoffWording, bool) {
	w, ok := defaultHandoffWording[lang]
	return w, ok
}
