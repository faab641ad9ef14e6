"""Word lists and conversation scripts the demo draws from. Data only."""

from typing import NamedTuple

from sessionlens.kinds import HandoffTrigger


class Topic(NamedTuple):
    """One conversation script: ``lines`` alternate customer and AI, the customer first. A long
    demo conversation goes on with other topics of the same ``language``, each brought up with its
    ``follow_up`` line instead of its first (no second greeting); ``None`` where the language has
    no other topic to come after."""

    language: str
    follow_up: str | None
    lines: list[str]


FIRST = [
    "Olivia",
    "Liam",
    "Emma",
    "Noah",
    "Ava",
    "Mateo",
    "Sofia",
    "Lucas",
    "Mia",
    "Elias",
    "Chloe",
    "Amir",
    "Hana",
    "Jonas",
    "Lea",
    "Ravi",
    "Yuki",
    "Marta",
    "Tomás",
    "Ines",
    "Kofi",
    "Zara",
    "Felix",
    "Nora",
    "Omar",
    "Priya",
    "Sven",
    "Aisha",
    "Diego",
    "Freya",
]
LAST = [
    "Smith",
    "Müller",
    "García",
    "Rossi",
    "Novak",
    "Kowalski",
    "Johansson",
    "Nguyen",
    "Dubois",
    "Silva",
    "Okafor",
    "Tanaka",
    "Haddad",
    "Larsen",
    "Costa",
    "Fischer",
    "Patel",
    "Moreau",
    "Schmidt",
    "Andersen",
    "Kim",
    "O'Brien",
    "Ivanova",
    "Yilmaz",
    "Bauer",
]

TOPICS = [
    Topic(
        "en",
        "One more thing: another order of mine hasn't arrived either. It was due on Monday.",
        [
            "Hi, my order hasn't arrived yet. It was supposed to come on Monday.",
            "I'm sorry your order is late. Could you share your **order number**? It starts with `NW-`.",
            "Sure, it's NW-48213.",
            "Thanks! Order NW-48213 left our warehouse on Friday and is now with the carrier:\n\n"
            "- Carrier: DHL Express\n- Status: *in transit*\n- Expected: tomorrow before 18:00\n\n"
            "You can follow it on the [tracking page](https://example.com/track/NW-48213).",
            "Can I change the delivery address? I'll be at work tomorrow.",
            "Yes. I've asked the carrier to deliver to a nearby pick-up point instead. "
            "You'll get an SMS with the code when it's ready.",
            "Great, thank you!",
            "You're welcome! Is there anything else I can help with?",
        ],
    ),
    Topic(
        "en",
        "While I have you: I was charged twice for my subscription this month.",
        [
            "I was charged twice for my subscription this month.",
            "I can help with that. I see two charges of **€29.00** on the 3rd. One of them is a duplicate.",
            "Can you refund it?",
            "I've started a refund of €29.00 to your card ending 4421. Refunds take 3–5 business days.",
            "OK. Will this happen again next month?",
            "No — the duplicate came from a payment retry during a bank outage. "
            "Your next charge is scheduled once, on the 3rd.",
            "Fine. Please also send me the invoice.",
            "Done: the corrected invoice is in your account under *Billing → Invoices*.",
        ],
    ),
    Topic(
        "en",
        "Also, how do I reset my password? The reset email never arrives.",
        [
            "How do I reset my password? The reset email never arrives.",
            "Let's fix that. Please check these first:\n\n1. Your spam folder\n2. That you used the "
            "address you signed up with\n3. That your mailbox isn't full",
            "Checked all of those. Still nothing.",
            "Thanks for checking. I've sent a new reset link from a different mail server. "
            "It's valid for 30 minutes.",
            "Got it now, thanks.",
            "Glad it worked! For security, the old links have been disabled.",
        ],
    ),
    Topic(
        "en",
        "Unrelated, but do you have the trail jacket in size M in dark green?",
        [
            "Do you have the trail jacket in size M in dark green?",
            "Yes! The **Ridge Trail Jacket** in *Forest Green*, size M, is in stock. Would you like a "
            "link to order it?",
            "What's the difference to the Summit model?",
            "The Summit is fully waterproof (20,000 mm) and heavier; the Ridge is lighter and more "
            "breathable for hiking in mixed weather.",
            "I'll take the Ridge. Is there a discount for newsletter subscribers?",
            "Subscribers get 10% off their first order with code `WELCOME10`.",
            "Perfect, ordering now.",
        ],
    ),
    Topic(
        "en",
        "One more thing: I want to return boots I bought two weeks ago. They are too small.",
        [
            "I want to return boots I bought two weeks ago. They are too small.",
            "No problem — returns are free within 30 days. I've created return label **RT-77120** "
            "for you.",
            "Can I exchange them for a bigger size instead?",
            "Yes. I've reserved size 44 for you; it ships as soon as the carrier scans your return.",
            "Thanks, that's easy.",
        ],
    ),
    Topic(
        "en",
        "Another thing: your app keeps crashing when I open my orders.",
        [
            "Your app keeps crashing when I open my orders.",
            "Sorry about that. Which version of the app are you using? You'll find it under "
            "*Settings → About*.",
            "Version 5.2.1 on Android.",
            "Thanks. This is a known issue in 5.2.1. Please update to 5.2.2:\n\n```\nPlay Store → "
            "Northwind → Update\n```",
            "Updated, it works now.",
            "Great to hear! Thanks for your patience.",
        ],
    ),
    # Customers write in their own language; the agent answers in it (and Search finds it).
    Topic(
        "de",
        None,
        [
            "Hallo, ich möchte die Wanderschuhe zurückgeben. Sie sind zu groß.",
            "Kein Problem! Die Rücksendung ist 30 Tage kostenlos. Ihr Rücksendeetikett: **RT-88214**.",
            "Wann bekomme ich meine Rückerstattung?",
            "Sobald das Paket bei uns ankommt, erstatten wir den Betrag innerhalb von 3–5 Werktagen.",
            "Danke, das ist sehr freundlich.",
            "Gern geschehen! Schönen Tag noch.",
        ],
    ),
    Topic(
        "ru",
        None,
        [
            "Здравствуйте! Заказ NW-55102 пришёл повреждённым, коробка была разорвана.",
            "Очень жаль! Пришлите, пожалуйста, фото повреждений, и я оформлю возврат денег.",
            "Фото отправил. Когда вернутся деньги?",
            "Возврат оформлен: деньги поступят на карту в течение 3–5 рабочих дней.",
            "Спасибо за быструю помощь.",
            "Всегда рады помочь!",
        ],
    ),
    Topic(
        "ja",
        None,
        [
            "こんにちは。注文したジャケットがまだ届きません。",
            "ご不便をおかけして申し訳ございません。注文番号を教えていただけますか？",
            "NW-61873 です。",
            "確認しました。荷物は東京の配送センターにあり、明日の午前中にお届け予定です。",
            "わかりました、ありがとうございます。",
            "どういたしまして。またお気軽にお問い合わせください。",
        ],
    ),
]

#: The languages demo customers write in, one per customer in turn: as many writers of each
#: language as it has topics.
LANGUAGES = tuple(t.language for t in TOPICS)

# What the human agent says after a handover, in the conversation's language (a customer who wrote
# in Russian is answered in Russian by the person too), and the customer's thanks after the first.
HUMAN_LINES = {
    "en": [
        "Hi, this is {name} from the support team. I've read the conversation and I'll take it "
        "from here.",
        "I've checked with our warehouse: your parcel will be re-sent today with express shipping.",
        "I've added a €10 voucher to your account for the trouble.",
        "Is there anything else I can do for you today?",
    ],
    "de": [
        "Hallo, hier ist {name} vom Support-Team. Ich habe das Gespräch gelesen und übernehme ab "
        "hier.",
        "Ich habe mit unserem Lager gesprochen: Ihr Paket geht heute per Express noch einmal raus.",
        "Für die Umstände habe ich Ihrem Konto einen Gutschein über 10 € gutgeschrieben.",
        "Kann ich sonst noch etwas für Sie tun?",
    ],
    "ru": [
        "Здравствуйте, на связи {name} из службы поддержки. Всю переписку вижу, дальше вопросом "
        "займусь я.",
        "Связались со складом: сегодня отправим посылку повторно экспресс-доставкой.",
        "За доставленные неудобства на ваш счёт начислен ваучер на 10 €.",
        "Могу ли я ещё чем-нибудь помочь?",
    ],
    "ja": [
        "サポート担当の{name}です。これまでのやり取りを確認しましたので、ここからは私が対応いたします。",
        "倉庫に確認いたしました。本日、速達で再発送いたします。",
        "お詫びとして、お客様のアカウントに10ユーロ分のクーポンを追加いたしました。",
        "ほかに何かお手伝いできることはございますか？",
    ],
}
THANKS = {
    "en": "Thank you, that would be great.",
    "de": "Danke, das wäre super.",
    "ru": "Спасибо, это было бы здорово.",
    "ja": "ありがとうございます、助かります。",
}

# Why the AI handed a conversation over, by trigger (the Handoffs page's rows).
HANDOFF_REASONS = {
    HandoffTrigger.CUSTOMER_REQUEST: [
        "The customer asked for a person",
        "The customer asked for a manager",
    ],
    HandoffTrigger.AUTOMATIC: ["Refund above the AI's limit", "Negative sentiment twice in a row"],
    HandoffTrigger.MANUAL: ["Taken over from the console"],
}

# Copilot's suggestion before each of HUMAN_LINES, in the same language, which the human agent
# then edits and sends.
DRAFTS = {
    "en": [
        "Hello, I'm taking over from our assistant. I've read the conversation and I'm here to "
        "help.",
        "I've checked with the warehouse: we can re-send your parcel today with express shipping "
        "at no cost.",
        "I'm sorry for the trouble. As an apology, I can add a €10 voucher to your account.",
        "Is there anything else I can help you with today?",
    ],
    "de": [
        "Hallo, ich übernehme von unserem Assistenten. Ich habe das Gespräch gelesen und helfe "
        "Ihnen gern weiter.",
        "Laut Lager können wir Ihr Paket heute kostenlos per Express neu verschicken.",
        "Entschuldigen Sie die Umstände. Ich kann Ihrem Konto einen Gutschein über 10 € "
        "gutschreiben.",
        "Kann ich Ihnen sonst noch weiterhelfen?",
    ],
    "ru": [
        "Здравствуйте! Дальше с вами сотрудник поддержки: переписку вижу, помогу разобраться.",
        "Склад подтвердил: можем бесплатно отправить посылку повторно сегодня экспресс-доставкой.",
        "Приносим извинения за неудобства. Могу начислить на ваш счёт ваучер на 10 €.",
        "Чем ещё могу помочь?",
    ],
    "ja": [
        "アシスタントから引き継ぎました。これまでのやり取りを確認し、対応いたします。",
        "倉庫に確認したところ、本日無料で速達にて再発送できます。",
        "ご迷惑をおかけして申し訳ございません。お詫びとして10ユーロ分のクーポンをお付けできます。",
        "ほかにお手伝いできることはございますか？",
    ],
}

NOTES = [
    "Customer is upset about the second delay this month — offer a voucher.",
    "VIP customer (lifetime value > €2k). Handle with priority.",
    "Checked the CRM: the address on file is outdated.",
]

TEMPLATE = (
    "Hello {name}! Your order {order} is ready to ship. Reply *YES* to confirm the delivery "
    "slot tomorrow 9–12, or *CHANGE* to pick another time."
)

QUICK_REPLIES = [
    ["Track my order", "Talk to a human", "Something else"],
    ["Yes, please", "No, thanks"],
    ["Billing", "Delivery", "Returns"],
]

PAGES = ["/pricing", "/checkout", "/help/returns", "/account/orders", "/products/ridge-jacket"]
PLANS = ["Free", "Basic", "Premium", "Enterprise"]
CAMPAIGNS = ["spring_promo", "winback_q3", "black_friday", "newsletter_nov"]
UTM_SOURCES = ["google", "newsletter", "facebook", "instagram"]

DELIVERY_FAILED = [
    "Recipient phone number is not on WhatsApp (error 131026)",
    "Message undeliverable: user blocked the bot",
    "Mailbox full (552 5.2.2)",
]
DELIVERY_OK = [
    "Delivered via WhatsApp Cloud API",
    "Accepted by Telegram Bot API",
    "Delivered by carrier (SMPP)",
]

PROMPT = """You are {agent}, the customer support agent of {tenant}.
## Main task
Help the customer with orders, billing, returns and product questions. Be concise and friendly.
## Identity and workflow
- Always greet the customer by name when known.
- Hand over to a human agent when the customer is upset or asks for a person.
## Session parameters
{params}
## Chat history
{history}
## Tools
- lookup_order(order_id): order status and carrier tracking
- create_refund(amount, reason)
- handover_to_operator(reason)
## System info
Current date: {date}"""
