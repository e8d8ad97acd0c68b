"""The world the sample data describes: catalogue, segments, tastes, seasons and offer terms.

Data tables of :mod:`recsys.data.sample`, kept apart so the generator reads as an algorithm.
"""

from __future__ import annotations

import numpy as np

# --- catalogue: (product name, typical unit price) per category --------------------------------
# A data table: several products a line reads better than one.
# fmt: off
CATALOGUE: dict[str, tuple[tuple[str, float], ...]] = {
    "travel": (
        ("Airline ticket — short haul", 180.0), ("Airline ticket — long haul", 850.0),
        ("Airline ticket — domestic", 120.0), ("Hotel stay — city", 210.0),
        ("Hotel stay — resort", 480.0), ("Car rental", 160.0), ("Train ticket", 45.0),
        ("Airport lounge pass", 40.0), ("Travel insurance", 60.0), ("Cruise booking", 1400.0),
        ("Holiday package", 1100.0), ("Ride-hailing trip", 18.0), ("Airport parking", 55.0),
        ("Ferry crossing", 90.0), ("Budget hostel", 35.0),
    ),
    "dining": (
        ("Coffee shop", 5.5), ("Fast food", 11.0), ("Pizza delivery", 24.0),
        ("Sushi restaurant", 42.0), ("Fine dining", 160.0), ("Gastropub", 48.0), ("Bakery", 8.0),
        ("Food delivery app", 28.0), ("Steakhouse", 85.0), ("Vegan café", 19.0),
        ("Brunch café", 26.0), ("Noodle bar", 15.0), ("Cocktail bar", 38.0),
        ("Ice cream parlour", 7.0), ("Burger joint", 16.0),
    ),
    "groceries": (
        ("Supermarket — weekly shop", 95.0), ("Organic grocer", 62.0),
        ("Discount supermarket", 48.0), ("Convenience store", 14.0), ("Butcher", 35.0),
        ("Farmers market", 28.0), ("Online grocery delivery", 110.0), ("Wine shop", 45.0),
        ("Baby supplies", 40.0), ("Pet food", 32.0), ("Bulk warehouse club", 180.0),
        ("Fishmonger", 30.0), ("Deli", 22.0), ("Health food store", 27.0), ("Meal kit box", 55.0),
    ),
    "electronics": (
        ("Smartphone", 799.0), ("Laptop", 1199.0), ("Tablet", 449.0), ("Wireless earbuds", 149.0),
        ("Smartwatch", 299.0), ("Gaming console", 499.0), ("Video game", 59.0),
        ("4K television", 899.0), ("Camera", 650.0), ("Phone case", 25.0),
        ("Bluetooth speaker", 89.0), ("E-reader", 129.0), ("Computer monitor", 249.0),
        ("Smart home hub", 119.0), ("Phone charger", 19.0),
    ),
    "fashion": (
        ("Sneakers", 110.0), ("Designer handbag", 950.0), ("Jeans", 70.0), ("Kids clothing", 45.0),
        ("Winter coat", 180.0), ("Sportswear", 60.0), ("Fast-fashion store", 38.0),
        ("Luxury watch", 2400.0), ("Sunglasses", 140.0), ("Swimwear", 50.0),
        ("Business suit", 420.0), ("Jewellery", 320.0), ("Department store", 120.0),
        ("Second-hand clothing", 22.0), ("Shoe repair", 18.0),
    ),
    "entertainment": (
        ("Cinema ticket", 13.0), ("Concert ticket", 75.0), ("Theatre ticket", 65.0),
        ("Theme park", 85.0), ("Bowling alley", 25.0), ("Museum entry", 18.0),
        ("Sports match ticket", 60.0), ("Escape room", 30.0), ("Festival pass", 220.0),
        ("Zoo admission", 28.0), ("Comedy club", 22.0), ("Art gallery", 15.0),
        ("Trampoline park", 16.0), ("Karaoke bar", 20.0), ("Golf green fee", 95.0),
    ),
    "fuel": (
        ("Petrol station", 62.0), ("Diesel fill-up", 75.0), ("EV charging", 22.0),
        ("Car wash", 15.0), ("Motorway services", 18.0), ("Premium petrol", 85.0),
        ("Fuel station shop", 9.0), ("Toll road", 8.0), ("City parking", 12.0),
        ("Car servicing", 240.0), ("Tyre fitting", 180.0), ("LPG refill", 40.0),
        ("Oil change", 70.0), ("Fuel card top-up", 100.0), ("Roadside assistance", 120.0),
    ),
    "health": (
        ("Pharmacy", 18.0), ("Gym membership", 45.0), ("Dentist", 120.0), ("Optician", 160.0),
        ("Yoga class", 20.0), ("Physiotherapy", 65.0), ("Vitamins & supplements", 25.0),
        ("Spa day", 140.0), ("Hairdresser", 48.0), ("Private GP visit", 90.0),
        ("Contact lenses", 35.0), ("Swimming pool entry", 7.0), ("Massage", 70.0),
        ("Sports nutrition", 38.0), ("Skincare", 42.0),
    ),
    "home": (
        ("DIY store", 65.0), ("Furniture store", 520.0), ("Garden centre", 55.0),
        ("Home appliances", 380.0), ("Bed linen", 60.0), ("Kitchenware", 45.0),
        ("Paint & decorating", 80.0), ("Cleaning supplies", 20.0), ("Lighting store", 90.0),
        ("Mattress", 650.0), ("Plumber call-out", 150.0), ("Florist", 35.0), ("Toy store", 40.0),
        ("Storage & organisation", 50.0), ("Candle shop", 24.0),
    ),
    "subscriptions": (
        ("Video streaming", 12.99), ("Music streaming", 10.99), ("Cloud storage", 2.99),
        ("News subscription", 9.99), ("Mobile phone plan", 25.0), ("Broadband", 35.0),
        ("Software subscription", 14.99), ("Audiobook service", 9.99),
        ("Gaming subscription", 14.99), ("Meal planner app", 6.99), ("Language learning app", 7.99),
        ("Dating app", 19.99), ("Magazine subscription", 5.99), ("Sports streaming", 29.99),
        ("Password manager", 3.99),
    ),
}
# fmt: on
CATEGORIES: tuple[str, ...] = tuple(CATALOGUE)

# Mean number of *extra* units per line (quantity = 1 + Poisson(lambda)).
EXTRA_UNITS = np.array([0.15, 0.35, 0.4, 0.05, 0.3, 0.9, 0.0, 0.1, 0.3, 0.0])

# --- segments ---------------------------------------------------------------------------------
SEGMENTS: tuple[str, ...] = ("young_urban", "family", "frequent_traveller", "affluent", "student")
SEGMENT_SHARE = np.array([0.24, 0.27, 0.13, 0.14, 0.22])
# Category weights per segment, columns in CATEGORIES order:
#   travel dining groceries electronics fashion entertainment fuel health home subscriptions
SEGMENT_CATEGORY_WEIGHT = np.array(
    [
        [1.0, 3.0, 1.0, 1.5, 2.0, 2.0, 0.3, 1.0, 0.5, 2.0],  # young_urban
        [0.6, 1.0, 4.0, 0.8, 1.0, 1.2, 2.2, 1.0, 2.5, 0.8],  # family
        [4.5, 2.0, 0.8, 0.8, 0.8, 0.6, 1.2, 0.5, 0.4, 0.6],  # frequent_traveller
        [2.0, 2.5, 1.0, 1.5, 2.2, 1.2, 1.0, 1.6, 1.5, 0.6],  # affluent
        [0.4, 2.2, 1.5, 1.0, 0.8, 1.6, 0.2, 0.5, 0.2, 2.2],  # student
    ]
)
# Price affinity: product weight is multiplied by (price / category median) ** beta.
SEGMENT_PRICE_BETA = np.array([0.0, -0.2, 0.3, 0.7, -0.7])
# Card product held, by segment (probabilities over CARDS).
CARDS = ("Student", "Everyday", "Cashback", "Travel Rewards", "Platinum")
SEGMENT_CARD_P = np.array(
    [
        [0.05, 0.45, 0.30, 0.15, 0.05],
        [0.00, 0.40, 0.45, 0.10, 0.05],
        [0.00, 0.10, 0.10, 0.60, 0.20],
        [0.00, 0.10, 0.10, 0.30, 0.50],
        [0.75, 0.20, 0.05, 0.00, 0.00],
    ]
)
REGIONS = ("North", "South", "East", "West", "Metro")
# Young urban customers and students live mostly in the metro region.
SEGMENT_REGION_P = np.array(
    [
        [0.10, 0.10, 0.10, 0.10, 0.60],
        [0.25, 0.25, 0.20, 0.20, 0.10],
        [0.15, 0.15, 0.15, 0.15, 0.40],
        [0.15, 0.20, 0.15, 0.15, 0.35],
        [0.15, 0.15, 0.15, 0.15, 0.40],
    ]
)
# Tenure in months: gamma(shape, scale) per segment (students are new customers).
SEGMENT_TENURE = np.array([[2.0, 18.0], [3.0, 24.0], [3.0, 22.0], [4.0, 26.0], [1.5, 10.0]])

# --- knobs of the purchase process --------------------------------------------------------------
ZIPF_EXPONENT = 1.5  # power law of product popularity inside a segment's category
# Hidden taste communities inside each segment ("tribes", not in customers.csv): a customer's
# tastes mix the segment's with the tribe's. They are what neighbours can find and a segment
# average cannot.
N_TRIBES = 3
TRIBE_WEIGHT = 0.75
NOISE_SHARE = 0.08  # share of lines drawn from another segment's tastes
FAVOURITE_SHARE = (2.0, 3.0)  # Beta(a, b): share of a customer's lines spent on favourites
N_FAVOURITES = (2, 6)  # inclusive range of favourite products per customer
ACTIVITY_SIGMA = 1.0  # lognormal sigma of customer activity (long tail of heavy buyers)
PURCHASES_PER_CUSTOMER = 30.0  # the bundled sample: 2,000 customers, 60,000 lines
MIN_LINES = 3  # every customer has at least this many purchase lines

# Seasonal multipliers per calendar month (Jan..Dec) per category.
SEASONALITY: dict[str, tuple[float, ...]] = {
    "travel": (0.8, 0.8, 0.9, 1.0, 1.1, 1.6, 1.9, 1.8, 1.1, 0.9, 0.7, 1.1),
    "electronics": (0.9, 0.7, 0.8, 0.8, 0.8, 0.8, 0.8, 0.9, 0.9, 1.0, 2.0, 2.2),
    "fashion": (1.2, 0.8, 1.0, 1.1, 1.0, 1.1, 1.2, 0.9, 1.1, 1.0, 1.3, 1.5),
    "entertainment": (0.8, 0.9, 1.0, 1.0, 1.0, 1.2, 1.3, 1.3, 1.0, 1.0, 1.0, 1.4),
    "home": (0.9, 0.9, 1.2, 1.4, 1.4, 1.1, 1.0, 0.9, 0.9, 0.9, 0.9, 1.0),
}
WEEKEND_BOOST = {"dining": 1.4, "entertainment": 1.6}

# --- offers -------------------------------------------------------------------------------------
N_OFFERS = 40
SEGMENT_LABEL = {
    "young_urban": "Young urban",
    "family": "Family",
    "frequent_traveller": "Frequent traveller",
    "affluent": "Affluent",
    "student": "Student",
}
