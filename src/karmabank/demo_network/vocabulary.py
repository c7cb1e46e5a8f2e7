"""The demo's vocabulary: Riverside Commons' names, places, themes, texts and kinds of activity."""

from __future__ import annotations

SITE = "https://riverside-commons.example"
ORG_DOMAIN = "riverside-commons.example"
DAY = 86_400
HOUR = 3_600

THEMES: tuple[str, ...] = ("river", "trees", "gardens", "streets")

FIRST_NAMES: tuple[str, ...] = (
    "Ada", "Aarav", "Abena", "Adrián", "Aisha", "Akira", "Alejandro", "Amara", "Amina", "Ana",
    "Andrei", "Anika", "Arjun", "Astrid", "Ayşe", "Beatriz", "Ben", "Björn", "Camille", "Carlos",
    "Chen", "Chidi", "Chloé", "Clara", "Daniel", "Darius", "Dmitri", "Efua", "Elena", "Elif",
    "Emma", "Esther", "Ethan", "Fatima", "Felix", "Fiona", "Gabriel", "Grace", "Hana", "Hannah",
    "Hiroshi", "Ibrahim", "Ines", "Ingrid", "Isaac", "Jamal", "James", "Javier", "Jin", "Joanna",
    "José", "Julia", "Kai", "Kavya", "Keanu", "Kenji", "Kofi", "Laila", "Lars", "Leila",
    "Liam", "Lucía", "Luca", "Mai", "Malik", "Marta", "Mateo", "Mei", "Mia", "Miguel",
    "Mohammed", "Nadia", "Naomi", "Ngozi", "Nikhil", "Noah", "Nora", "Oliver", "Olivia", "Omar",
    "Oluwaseun", "Pablo", "Priya", "Rafael", "Rahul", "Rosa", "Ruth", "Samir", "Sara", "Sean",
    "Siobhán", "Sofia", "Tariq", "Thanh", "Tomás", "Valentina", "Wei", "Yara", "Yusuf", "Zoë",
)  # fmt: skip

# the demo's first names with a nickname the matcher knows (a second identity may use it)
NICKNAMES: dict[str, str] = {"James": "Jim", "Daniel": "Dan", "José": "Pepe"}

LAST_NAMES: tuple[str, ...] = (
    "Abebe", "Adeyemi", "Ali", "Andersen", "Asante", "Banerjee", "Begum", "Bianchi", "Boateng",
    "Brown", "Byrne", "Chen", "Chowdhury", "Cohen", "Costa", "Cruz", "Diallo", "Dubois", "Eze",
    "Fernández", "Ferrari", "Flores", "García", "Gill", "Haddad", "Hernández", "Hoang", "Horvat",
    "Ivanova", "Jackson", "Jensen", "Johansson", "Johnson", "Kaur", "Kelly", "Khan", "Kim",
    "Kovács", "Kowalski", "Lee", "Lefebvre", "Lindqvist", "Lopez", "Martinez", "Mensah", "Moore",
    "Moreau", "Müller", "Murphy", "Mwangi", "Nagy", "Nakamura", "Ndiaye", "Nguyen", "Nielsen",
    "Novak", "O'Brien", "Ochieng", "Okafor", "Okeke", "Park", "Patel", "Petrov", "Pham",
    "Popescu", "Rahman", "Reyes", "Rodriguez", "Romano", "Rossi", "Ryan", "Santos", "Sato",
    "Schmidt", "Schneider", "Silva", "Singh", "Smith", "Sow", "Suzuki", "Tanaka", "Taylor",
    "Torres", "Traoré", "Tran", "Vu", "Walsh", "Wang", "Watanabe", "Wilson", "Yamamoto", "Yilmaz",
)  # fmt: skip

PLACES: tuple[str, ...] = (
    "Mill Reach", "Elm Street", "Willow Bend", "Harbor Road", "Oak Park", "Northgate",
    "the Old Towpath", "Fernhill", "Station Square", "Brookside", "Canal Lane", "Heron Flats",
)  # fmt: skip

EMAIL_DOMAINS = ("example.org", "example.com", "example.net", "mail.example", "post.example")
MASTODON_HOSTS = ("social.example", "mastodon.example", "toot.example", "river.social.example")
WEB_DOMAINS = ("example.net", "example.com", "blog.example")

LINES: dict[str, tuple[str, ...]] = {
    "river": (
        "Picked up two full bags of litter below the {place} footbridge this morning.",
        "Is the water quality data for {place} updated after last week's rain?",
        "The E. coli readings near {place} look worrying after the storm.",
        "Saw a heron back on the river at {place}, first time in years.",
        "Can we add a sampling point downstream of the stormwater outfall?",
        "Great turnout at the river cleanup, the banks look so much better.",
        "Someone dumped tyres in the river again near {place}.",
        "Would love a training session on the water testing kits.",
        "The river smelled bad near {place} today, has anyone reported it?",
        "Thanks for publishing the water quality numbers so openly.",
    ),
    "trees": (
        "The new street trees on {place} need watering in this heat.",
        "It was four degrees cooler under the canopy at {place} than on the open square.",
        "Which species are you planting this autumn? Hoping for more natives.",
        "Three of the young trees on {place} have broken stakes.",
        "Happy to adopt a tree pit near my house on {place}.",
        "The heat map makes the case for more shade around the schools.",
        "Could we get a tree planting day in {place}? It is a real heat island.",
        "Love the tree census idea, count me in for my block.",
        "Shade matters so much for older neighbours during heatwaves.",
    ),
    "gardens": (
        "The {place} garden had a huge tomato harvest this week.",
        "Is there still space on the waiting list for a garden plot?",
        "Our compost bins at {place} need more brown material.",
        "Bringing extra seedlings to the seed swap, mostly kale and beans.",
        "Can the surplus vegetables go to the food bank again?",
        "The raised beds at {place} are perfect for the kids.",
        "Slugs ate half my lettuce, any organic tips for the garden?",
        "Would love a workshop on saving seeds.",
        "The pollinator strip along {place} is buzzing this year.",
    ),
    "streets": (
        "The crossing at {place} is still dangerous at school time.",
        "Joined the bike bus this morning, the kids loved it.",
        "We need a protected bike lane on {place}, cars park in the painted one.",
        "Counted over 300 cyclists on {place} during rush hour.",
        "Lower speed limits near {place} would make walking so much safer.",
        "Can we get more bike parking near the station?",
        "The new planters slowed traffic on {place} a lot.",
        "Would love a beginners' group ride on a Sunday.",
        "Drivers keep cutting the corner at {place}, it needs a raised crossing.",
    ),
}
OPENERS = ("", "", "", "", "Update: ", "Agreed! ", "Hi all! ", "Quick note: ")
CLOSERS = ("", "", "", "", " Thanks for organizing!", " See you Saturday.", " Happy to help.")

GITHUB_LINES: dict[str, tuple[str, ...]] = {
    "river": (
        "The CSV export for {place} is missing last month's samples.",
        "Added a script to plot the E. coli readings per sampling point.",
        "The water quality chart mislabels the {place} station.",
    ),
    "trees": (
        "The tree map does not load on mobile.",
        "Opened a PR to import the new tree census data for {place}.",
        "Species names in the tree map should link to the planting guide.",
    ),
    "gardens": (
        "The plot waiting list form rejects names with accents.",
        "Added the {place} garden to the map layer.",
        "Harvest log totals are off by one week.",
    ),
    "streets": (
        "Can we add the bike counter data for {place} to the dashboard?",
        "The crash map legend is unreadable in dark mode.",
        "Opened a PR with speed survey results from {place}.",
    ),
}

POST_TITLES: dict[str, tuple[str, ...]] = {
    "river": (
        "What the {place} water samples told us", "Stormwater outfalls along {place}",
        "Litter counts from the {place} cleanup", "Why E. coli levels spike after rain",
        "Meet the river monitors of {place}",
    ),
    "trees": (
        "Mapping heat islands around {place}", "Planting street trees on {place}",
        "Who waters the new trees?", "Shade, heat and the {place} canopy",
        "Tree census results for {place}",
    ),
    "gardens": (
        "Harvest notes from the {place} garden", "Compost basics at {place}",
        "Seed swap recap", "Sharing surplus food from our plots", "New plots at {place}",
    ),
    "streets": (
        "A safer crossing at {place}", "Bike bus routes for the new school year",
        "Counting cyclists on {place}", "Lower speeds near {place}",
        "Slow streets trial in {place}",
    ),
}  # fmt: skip

EVENT_TITLES: dict[str, tuple[str, ...]] = {
    "river": ("River cleanup at {place}", "Water sampling training at {place}"),
    "trees": ("Tree planting on {place}", "Tree-watering evening at {place}"),
    "gardens": ("Work day at the {place} garden", "Seed swap and potluck at {place}"),
    "streets": ("Bike bus to {place}", "Slow-streets walkabout in {place}"),
}

REPLY_LINES = (
    "Thanks {first}, we will raise this at the next {group} meeting.",
    "Thank you {first}! Could you send a photo so we can log it?",
    "Good point, {first}. The {group} is on it.",
    "Thanks for flagging this, {first}; someone will check it this week.",
    "Great to hear, {first}! Mind if we share this in the newsletter?",
)
HELP_LINES = (
    "Hi {first}, the how-to guide is here: " + SITE + "/guides/{theme}.",
    "Hi {first}, you can borrow the kit from the tool library on Saturdays.",
    "Hi {first}, fixed now, thanks for reporting it.",
)
GROUPS = {
    "river": "river group", "trees": "tree team", "gardens": "garden committee",
    "streets": "safe streets group",
}  # fmt: skip
SPECIAL_TEXTS = (
    "Très bien! The café by the river now has a free water refill station.",
    "Grüße from the Südpark garden group, we would love to join the seed swap 🌱",
    "Loved the cleanup today 💧🚲 see you all next month!",
    "Naïve question: are the new trees on Elm Street native species? 🌳",
    "Merci à toute l'équipe, the crossing at Brookside feels much safer now.",
)
SCRIPT_TEXT = "Great post! <script>alert('x')</script>"

MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)  # fmt: skip

# (name, month, day, action, theme, recurring)
CAMPAIGNS: tuple[tuple[str, int, int, str, str, bool], ...] = (
    ("Spring river cleanup", 3, 15, "volunteer", "river", True),
    ("Wetland petition", 6, 2, "sign", "river", False),
    ("Tree census weekend", 9, 8, "volunteer", "trees", True),
    ("Safe streets open letter", 10, 14, "sign", "streets", False),
    ("Winter fundraiser", 11, 28, "donate", "", True),
    ("Harvest festival", 8, 30, "attend", "gardens", True),
)
ASK_PHRASES = {
    "volunteer": "Could you volunteer a morning for the {campaign}?",
    "sign": "Would you add your name to the {campaign}?",
    "donate": "Could you chip in to the {campaign}?",
    "attend": "Would you join us at the {campaign}?",
}
RESPONSE_CHANNELS = {"volunteer": "events", "sign": "email", "donate": "donations",
                     "attend": "events"}  # fmt: skip

TEAM: tuple[tuple[str, str], ...] = (
    ("Maya Okafor", "maya"),
    ("Tomás Rivera", "tomas"),
    ("Hannah Schmidt", "hannah"),
    ("Kwame Mensah", "kwame"),
    ("Lin Zhao", "lin"),
)
BOTS: tuple[tuple[str, str], ...] = (
    ("mastodon:@newsbot@bots.example", "Riverside Newsbot"),
    ("bluesky:linkfeed-bot.bsky.social", "Linkfeed Bot"),
    ("github:dependabot", "dependabot[bot]"),
)

# Activity kinds per platform, with weights; "peer" becomes a person -> person row.
KINDS: dict[str, tuple[tuple[str, ...], tuple[float, ...]]] = {
    "email": (
        ("blog_comment", "email_reply", "peer", "event", "donate", "volunteer"),
        (20, 20, 6, 38, 14, 8),
    ),
    "forum": (
        ("forum_post", "forum_reply", "peer", "event", "donate", "email_reply"),
        (25, 25, 22, 16, 6, 6),
    ),
    "web": (("blog_comment", "peer", "event", "donate"), (72, 14, 9, 5)),
    "social": (
        ("like", "share", "reply", "mention", "peer", "event", "donate"),
        (28, 18, 14, 8, 25, 5, 2),
    ),
    "github": (
        ("gh_comment", "gh_reply", "gh_like", "peer", "event"),
        (30, 15, 12, 33, 10),
    ),
}  # fmt: skip
# What an activity becomes when it cannot happen (no event coming, nobody to talk to yet).
FALLBACK = {
    "email": "blog_comment", "forum": "forum_post", "web": "blog_comment", "social": "like",
    "github": "gh_comment",
}  # fmt: skip
PEER_VERBS: dict[str, tuple[tuple[str, ...], tuple[float, ...]]] = {
    "mastodon": (("reply", "mention", "share", "follow"), (45, 25, 20, 10)),
    "bluesky": (("reply", "mention", "share", "follow"), (45, 25, 20, 10)),
    "forum": (("reply", "mention"), (75, 25)),
    "blog": (("reply",), (1,)),
    "github": (("reply", "mention", "follow"), (60, 25, 15)),
}
