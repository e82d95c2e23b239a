"""Word lists the demo data is built from: company names, people, places,
browsers. Danish first, with the international customers a Danish SaaS has."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Country:
    code: str  # ISO 3166-1 alpha-2, as Stripe returns it
    weight: int
    company_forms: tuple[str, ...]
    tlds: tuple[str, ...]
    cities: tuple[tuple[str, str], ...]  # (postal code, city)
    streets: tuple[str, ...]
    first_names: tuple[str, ...]
    last_names: tuple[str, ...]
    locale: str  # users' UI locale ("" = not chosen)
    tax_id_format: str  # digits replace '#'
    in_eu: bool


DANISH_FIRST = (
    "Anders", "Mette", "Søren", "Line", "Rasmus", "Camilla", "Mads", "Louise", "Frederik", "Sofie",
    "Jesper", "Maria", "Lars", "Anne", "Henrik", "Katrine", "Thomas", "Julie", "Christian", "Ida",
    "Mikkel", "Cecilie", "Jonas", "Emma", "Peter", "Signe", "Kasper", "Freja", "Nikolaj", "Astrid",
    "Morten", "Helle", "Jakob", "Pernille", "Martin", "Trine", "Niels", "Karen", "Oliver", "Laura",
    "Emil", "Nanna", "Magnus", "Birgitte", "Troels", "Rikke", "Asger", "Malene", "Bo", "Tove",
)
DANISH_LAST = (
    "Jensen", "Nielsen", "Hansen", "Pedersen", "Andersen", "Christensen", "Larsen", "Sørensen",
    "Rasmussen", "Jørgensen", "Petersen", "Madsen", "Kristensen", "Olsen", "Thomsen", "Christiansen",
    "Poulsen", "Johansen", "Møller", "Mortensen", "Knudsen", "Jakobsen", "Mikkelsen", "Frederiksen",
    "Lund", "Holm", "Schmidt", "Eriksen", "Kristiansen", "Simonsen", "Clausen", "Svendsen", "Andreasen",
    "Iversen", "Østergaard", "Jeppesen", "Vestergaard", "Nissen", "Lauridsen", "Kjær", "Dahl", "Skov",
    "Bach", "Juhl", "Winther", "Brandt", "Lindberg", "Kofoed", "Dalsgaard", "Bech",
)
SWEDISH_FIRST = ("Erik", "Anna", "Johan", "Karin", "Oskar", "Elin", "Gustav", "Sara", "Axel", "Maja", "Linnea", "Viktor")
SWEDISH_LAST = ("Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsson", "Olsson", "Persson", "Lindqvist", "Berg")
NORWEGIAN_FIRST = ("Ole", "Ingrid", "Håkon", "Kari", "Sindre", "Marte", "Eirik", "Silje", "Torbjørn", "Hilde")
NORWEGIAN_LAST = ("Hansen", "Johansen", "Olsen", "Larsen", "Andersen", "Berg", "Haugen", "Bakke", "Solberg", "Dahl")
GERMAN_FIRST = ("Lukas", "Anna", "Felix", "Lena", "Jonas", "Laura", "Maximilian", "Sophie", "Tobias", "Julia", "Stefan", "Katharina")
GERMAN_LAST = ("Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Hoffmann", "Koch", "Richter", "Wolf")
DUTCH_FIRST = ("Daan", "Emma", "Sem", "Julia", "Lucas", "Sanne", "Bram", "Lotte", "Thijs", "Fleur")
DUTCH_LAST = ("de Jong", "Jansen", "de Vries", "van den Berg", "Bakker", "Visser", "Smit", "Meijer", "de Boer", "Mulder")
ENGLISH_FIRST = (
    "James", "Olivia", "Oliver", "Amelia", "Harry", "Isla", "George", "Emily", "Jack", "Sophie",
    "Michael", "Jennifer", "David", "Sarah", "Daniel", "Jessica", "Matthew", "Ashley", "Ryan", "Megan",
)
ENGLISH_LAST = (
    "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Davies", "Evans", "Thomas", "Roberts",
    "Johnson", "Miller", "Garcia", "Martinez", "Anderson", "Clark", "Walker", "Young", "King", "Wright",
)
FINNISH_FIRST = ("Mikko", "Aino", "Juha", "Laura", "Antti", "Sanna", "Ville", "Heidi")
FINNISH_LAST = ("Korhonen", "Virtanen", "Mäkinen", "Nieminen", "Mäkelä", "Hämäläinen", "Laine", "Heikkinen")
# Colleagues from elsewhere, mixed into every company.
INTERNATIONAL_FIRST = ("Ahmed", "Priya", "Mateo", "Yuki", "Fatima", "Luca", "Chloé", "Ali", "Elena", "Wei", "Omar", "Zofia")
INTERNATIONAL_LAST = ("Khan", "Patel", "Rossi", "Nowak", "Tanaka", "García", "Dubois", "Yilmaz", "Kowalski", "Chen", "Haddad", "Silva")

COUNTRIES: tuple[Country, ...] = (
    Country(
        "DK", 62, ("ApS", "A/S", "ApS", "ApS", "I/S", "IVS"), ("dk", "dk", "dk", "com", "io"),
        (("1050", "København K"), ("1620", "København V"), ("2100", "København Ø"), ("2200", "København N"),
         ("8000", "Aarhus C"), ("5000", "Odense C"), ("9000", "Aalborg"), ("6700", "Esbjerg"),
         ("7100", "Vejle"), ("4000", "Roskilde"), ("3000", "Helsingør"), ("8600", "Silkeborg"),
         ("7400", "Herning"), ("6000", "Kolding"), ("8700", "Horsens"), ("2800", "Kongens Lyngby")),
        ("Vesterbrogade", "Nørregade", "Strandvejen", "Østergade", "Algade", "Jernbanegade", "Søndergade",
         "Bredgade", "Frederiksberg Allé", "Banegårdspladsen", "Industrivej", "Havnegade", "Skovvej", "Kongevejen"),
        DANISH_FIRST, DANISH_LAST, "da-DK", "DK########", True,
    ),
    Country(
        "SE", 8, ("AB",), ("se", "com"),
        (("111 52", "Stockholm"), ("411 05", "Göteborg"), ("211 20", "Malmö"), ("753 20", "Uppsala")),
        ("Drottninggatan", "Storgatan", "Kungsgatan", "Sveavägen", "Linnégatan"),
        SWEDISH_FIRST, SWEDISH_LAST, "", "SE############", True,
    ),
    Country(
        "NO", 6, ("AS",), ("no", "com"),
        (("0150", "Oslo"), ("5003", "Bergen"), ("7011", "Trondheim"), ("4006", "Stavanger")),
        ("Karl Johans gate", "Storgata", "Bryggen", "Kongens gate"),
        NORWEGIAN_FIRST, NORWEGIAN_LAST, "", "NO#########MVA", False,
    ),
    Country(
        "DE", 8, ("GmbH", "GmbH", "UG", "AG"), ("de", "com"),
        (("20095", "Hamburg"), ("10115", "Berlin"), ("80331", "München"), ("50667", "Köln"), ("24103", "Kiel")),
        ("Hauptstraße", "Bahnhofstraße", "Lindenallee", "Schillerstraße", "Hafenstraße"),
        GERMAN_FIRST, GERMAN_LAST, "", "DE#########", True,
    ),
    Country(
        "NL", 4, ("B.V.",), ("nl", "com"),
        (("1012 AB", "Amsterdam"), ("3011 AD", "Rotterdam"), ("3511 AA", "Utrecht")),
        ("Damrak", "Prinsengracht", "Coolsingel", "Oudegracht"),
        DUTCH_FIRST, DUTCH_LAST, "", "NL#########B01", True,
    ),
    Country(
        "GB", 6, ("Ltd", "Ltd", "LLP"), ("co.uk", "com", "io"),
        (("EC1A 1BB", "London"), ("M1 1AE", "Manchester"), ("EH1 1YZ", "Edinburgh"), ("BS1 4DJ", "Bristol")),
        ("High Street", "Station Road", "Church Lane", "Victoria Road", "King Street"),
        ENGLISH_FIRST, ENGLISH_LAST, "en-US", "GB#########", False,
    ),
    Country(
        "US", 4, ("Inc.", "LLC"), ("com", "io", "co"),
        (("94105", "San Francisco"), ("10001", "New York"), ("78701", "Austin"), ("98101", "Seattle")),
        ("Market Street", "Main Street", "Broadway", "Pine Street", "Congress Avenue"),
        ENGLISH_FIRST, ENGLISH_LAST, "en-US", "", False,
    ),
    Country(
        "FI", 2, ("Oy",), ("fi", "com"),
        (("00100", "Helsinki"), ("33100", "Tampere"), ("20100", "Turku")),
        ("Mannerheimintie", "Aleksanterinkatu", "Hämeenkatu"),
        FINNISH_FIRST, FINNISH_LAST, "", "FI########", True,
    ),
)

US_STATES = {"San Francisco": "CA", "New York": "NY", "Austin": "TX", "Seattle": "WA"}

# Company names: a distinctive word, then what the company does.
DANISH_NAME_WORDS = (
    "Nordlys", "Havblik", "Skovbryn", "Fjordlys", "Lærkehøj", "Bølgen", "Kildevæld", "Egetræ", "Solsikke",
    "Klitrose", "Stormly", "Vindrose", "Mosegård", "Engblomst", "Sandbjerg", "Bakkedal", "Strandeng",
    "Hvidklint", "Lyngbakke", "Havørn", "Blåmejse", "Rønnebær", "Tranehøj", "Kronborg", "Ravnsborg",
    "Søholm", "Fyrtårn", "Ankerhus", "Bøgely", "Markhus", "Nørrelund", "Vesterhavet", "Dybbøl", "Limfjord",
)
INTERNATIONAL_NAME_WORDS = (
    "Northwind", "Bluefjord", "Brightpath", "Cobalt", "Evergreen", "Silverline", "Polaris", "Lighthouse",
    "Granite", "Aurora", "Meridian", "Summit", "Harbor", "Copperleaf", "Redwood", "Nimbus", "Vertex",
    "Keystone", "Tidewater", "Ironbridge", "Sparrow", "Foxglove", "Halcyon", "Quarry", "Lumen", "Orbit",
    "Pinecrest", "Riverstone", "Saltmarsh", "Windward", "Kestrel", "Birchwood", "Coastal", "Arctic",
)
DANISH_TRADES = (
    "Rådgivning", "Byg", "Design", "Logistik", "Revision", "Tandklinik", "Ejendomme", "Regnskab",
    "Arkitekter", "VVS", "El-service", "Tømrer", "Advokater", "Fysioterapi", "Kommunikation", "Transport",
    "Maskinfabrik", "Køkkener", "Gartneri", "Rengøring", "Event", "Bogføring", "Malerfirma", "Bageri",
)
INTERNATIONAL_TRADES = (
    "Consulting", "Analytics", "Software", "Labs", "Studio", "Digital", "Systems", "Partners", "Solutions",
    "Health", "Logistics", "Media", "Capital", "Robotics", "Energy", "Ventures", "Foods", "Engineering",
    "Security", "Learning", "Travel", "Marine", "Data", "Cloud",
)

JOB_TITLES = (
    "CEO", "CFO", "CTO", "COO", "Founder", "Co-founder", "Managing Director", "Head of Finance",
    "Accountant", "Bookkeeper", "Office Manager", "Project Manager", "Product Manager", "Developer",
    "Senior Developer", "Designer", "Sales Manager", "Account Manager", "Marketing Manager",
    "Customer Success Manager", "Operations Manager", "HR Partner", "Consultant", "Partner", "Intern",
    "Team Lead", "Support Specialist", "Data Analyst",
)

CARD_BRANDS = (("visa", 55), ("mastercard", 35), ("amex", 6), ("link", 4))

CANCELLATION_FEEDBACK = (
    # (Stripe's cancellation feedback, weight, a customer's comment); no
    # feedback means an operator cancelled in the Stripe dashboard.
    ("too_expensive", 30, "Too expensive for a team our size."),
    ("switched_service", 20, "We moved to another tool."),
    ("unused", 25, "We don't use it enough."),
    ("other", 10, "Closing the company."),
    (None, 15, None),
)

# (user agent, weight) - device types are derived from the agent text.
USER_AGENTS = (
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36", 24),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.80", 10),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0", 5),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36", 16),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4_1) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Safari/605.1.15", 12),
    ("Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0", 3),
    ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36", 2),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1", 13),
    ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.82 Mobile Safari/537.36", 6),
    ("Mozilla/5.0 (Linux; Android 14; SM-S921B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.82 Mobile Safari/537.36", 4),
    ("Mozilla/5.0 (Android 14; Tablet; rv:125.0) Gecko/125.0 Firefox/125.0", 2),
    ("Mozilla/5.0 (Tablet; Windows NT 10.0; Touch) AppleWebKit/537.36 (KHTML, like Gecko)", 1),
    ("okhttp/4.12.0", 1),
)

# Documentation address ranges (RFC 5737, RFC 3849): never a real customer's address.
IP_PREFIXES = ("192.0.2.", "198.51.100.", "203.0.113.")
IPV6_PREFIX = "2001:db8:"

EXTERNAL_LOGIN_FAILURES = (
    ("IdentityProviderError", 20), ("LoginExpired", 25), ("CodeExchangeFailed", 10), ("InvalidState", 8),
    ("NonceMismatch", 4), ("SessionNotFound", 10), ("FlowIdMismatch", 4), ("UserNotFound", 12),
    ("AccountAlreadyExists", 4), ("LoginAlreadyCompleted", 2), ("IdentityMismatch", 1),
)
