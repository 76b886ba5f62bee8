package brain

// What the bot says to users, Turkish first, in one place.
const (
	msgEmpty         = "Boş bir mesaj aldım. Bana bir soru sor ya da bir şey yaz; komutlar için /help yazabilirsin."
	msgModelDown     = "Şu anda dil modeline ulaşamıyorum, mesajını kaydettim. Birazdan tekrar dener misin?"
	msgModelMissing  = "Cevap verecek model (%s) henüz kurulmamış, mesajını kaydettim. Yöneticiye haber verdim."
	msgModelFailed   = "Cevap üretirken bir sorun çıktı, mesajını kaydettim. Birazdan tekrar dener misin?"
	msgTimeout       = "Cevap çok uzun sürdü ve yarıda kestim; mesajını kaydettim. Soruyu biraz daraltıp tekrar dener misin?"
	msgStoreDown     = "Hizmet şu anda geçici olarak kullanılamıyor (veritabanına ulaşamıyorum). Mesajını sakladım; birkaç dakika içinde tekrar yazar mısın?"
	msgEmptyAnswer   = "Bu mesaja bir cevap üretemedim. Başka türlü sorar mısın?"
	msgInterrupted   = "\n\n_(Cevap yarıda kesildi.)_"
	msgTruncated     = "_(Mesajın çok uzundu; yalnızca sığan kısmını okuyabildim.)_\n\n"
	msgUnknownCmd    = "Bu komutu tanımıyorum: /%s\nKullanabileceğin komutlar için /help yaz."
	msgAdminOnly     = "Bu komut yalnızca yöneticiler içindir."
	msgResetDone     = "Kısa süreli bağlamı temizledim; yeni bir sayfa açtık. Uzun süreli hafızam yerinde duruyor."
	msgNoDecision    = "Bu sohbette henüz bir cevap vermedim, gösterecek bir karar yok."
	msgExpertAuto    = "Tamam, uzmanları yeniden ben seçeceğim (otomatik yönlendirme)."
	msgExpertSet     = "Tamam, bu sohbette bundan sonra **%s** cevap verecek. Otomatiğe dönmek için: /expert auto"
	msgExpertUnknown = "Böyle bir uzman yok: %q\n\n%s"
	msgWipeDone      = "%s kullanıcısının %d mesajını ve hafızasını sildim."
	msgWipeRecallErr = "%s kullanıcısının %d mesajını sildim, ama uzun süreli hafızasını silerken hata oldu; tekrar dener misin?"
	msgSleepOff      = "Gece işi bu kurulumda kapalı."
	msgSleepBadDay   = "Bu günü anlayamadım: %q. Şöyle yazabilirsin: /sleep, /sleep dün ya da /sleep 2026-01-31 (gelecek bir gün olamaz)."
	msgSleepFailed   = "Gece işi tamamlanamadı: %s\nMesajlar güvende; birazdan tekrar deneyebilirsin."
	msgQueueFull     = "Çok hızlı yazıyorsun; önceki mesajlarını cevaplamadan bunu işleyemem. Mesajını kaydettim, biraz bekleyip tekrar yazar mısın?"
)
