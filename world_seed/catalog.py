"""Static vocabulary of the world: the store, its categories, brands and name parts.

Everything here is plain data (tuples, never sets) so iteration order is fixed by the code.
"""

from __future__ import annotations

from dataclasses import dataclass

STORE_NAME = "Northwind Circuit"
STORE_DOMAIN = "northwindcircuit.example"
STORE_BRAND = "Northwind Circuit"  # brand of the store's own gift cards


@dataclass(frozen=True)
class CategorySpec:
    name: str
    code: str
    nouns: tuple[str, ...]
    series: tuple[str, ...]
    price_range: tuple[int, int]  # cents, inclusive low / exclusive high
    warranty_months: tuple[int, ...]
    max_qty: int  # largest quantity one order line usually has
    features: tuple[str, ...]


CATEGORIES: tuple[CategorySpec, ...] = (
    CategorySpec(
        "Keyboards",
        "KB",
        (
            "Mechanical Keyboard",
            "Wireless Keyboard",
            "TKL Keyboard",
            "Low-Profile Keyboard",
            "60% Keyboard",
            "Ergonomic Split Keyboard",
        ),
        ("Strata", "Keystone", "Tactix", "Nimbus", "Quill", "Forge", "Slate"),
        (29_99, 249_99),
        (12, 24),
        2,
        (
            "hot-swappable switches",
            "PBT keycaps",
            "per-key RGB",
            "USB-C detachable cable",
            "tri-mode wireless",
            "gasket mount",
        ),
    ),
    CategorySpec(
        "Mice",
        "MS",
        ("Gaming Mouse", "Wireless Mouse", "Vertical Mouse", "Ultralight Mouse", "Travel Mouse"),
        ("Glide", "Dart", "Talon", "Pulse", "Orbit", "Swift"),
        (14_99, 149_99),
        (12, 24),
        2,
        ("26K DPI sensor", "58 g shell", "silent clicks", "70-hour battery", "PTFE feet"),
    ),
    CategorySpec(
        "Monitors",
        "MN",
        (
            '27" QHD Monitor',
            '24" FHD Monitor',
            '32" 4K Monitor',
            '34" Ultrawide Monitor',
            '27" OLED Monitor',
            '25" Esports Monitor',
        ),
        ("Vista", "Horizon", "Prism", "Clarity", "Aurora", "Spectra"),
        (129_99, 1299_99),
        (24, 36),
        1,
        (
            "IPS panel",
            "165 Hz refresh",
            "HDR400",
            "USB-C 90 W power delivery",
            "height-adjustable stand",
            "factory calibrated",
        ),
    ),
    CategorySpec(
        "Headsets",
        "HS",
        ("Wireless Gaming Headset", "Wired Headset", "Noise-Cancelling Headphones", "USB Headset", "In-Ear Monitors"),
        ("Echo", "Resonance", "Tempo", "Cadence", "Sonar", "Halo"),
        (29_99, 349_99),
        (12, 24),
        2,
        ("50 mm drivers", "detachable boom mic", "active noise cancelling", "spatial audio", "memory-foam cushions"),
    ),
    CategorySpec(
        "Laptops",
        "LT",
        ('14" Ultrabook', '16" Creator Laptop', '15" Gaming Laptop', '13" Business Laptop', '17" Workstation Laptop'),
        ("Aero", "Titan", "Zenith", "Vector", "Atlas", "Nova"),
        (599_99, 3299_99),
        (12, 24, 36),
        1,
        ("32 GB RAM", "1 TB NVMe SSD", "OLED display", "Thunderbolt 4", "backlit keyboard", "14-hour battery"),
    ),
    CategorySpec(
        "GPUs",
        "GP",
        ("Graphics Card", "OC Graphics Card", "Low-Profile Graphics Card"),
        ("Inferno", "Frost", "Tempest", "Phantom", "Volt"),
        (199_99, 1799_99),
        (24, 36),
        1,
        ("12 GB GDDR6", "16 GB GDDR6X", "triple-fan cooler", "dual BIOS", "ARGB backplate"),
    ),
    CategorySpec(
        "SSDs",
        "SD",
        ("1TB NVMe SSD", "2TB NVMe SSD", "4TB NVMe SSD", "1TB SATA SSD", "2TB Portable SSD"),
        ("Rapid", "Flux", "Torrent", "Bolt", "Stream"),
        (39_99, 399_99),
        (36,),
        3,
        ("PCIe 4.0", "7,000 MB/s reads", "heatsink included", "DRAM cache", "5-year TBW rating"),
    ),
    CategorySpec(
        "Routers",
        "RT",
        ("Wi-Fi 6 Router", "Wi-Fi 6E Mesh System", "Wi-Fi 7 Router", "Travel Router", "Mesh Extender"),
        ("Beacon", "Relay", "Lattice", "Skyline", "Canopy"),
        (49_99, 499_99),
        (12, 24),
        1,
        ("tri-band", "2.5 GbE WAN", "WPA3", "parental controls", "covers 3,000 sq ft"),
    ),
    CategorySpec(
        "Webcams",
        "WC",
        ("1080p Webcam", "4K Webcam", "Streaming Webcam", "Conference Camera"),
        ("Lens", "Focus", "Iris", "Optic"),
        (29_99, 199_99),
        (12, 24),
        2,
        ("autofocus", "dual stereo mics", "privacy shutter", "auto light correction"),
    ),
    CategorySpec(
        "Cables & Adapters",
        "CA",
        (
            "USB-C to USB-C Cable (2 m)",
            "HDMI 2.1 Cable (3 m)",
            "DisplayPort 1.4 Cable",
            "USB-C Hub (7-in-1)",
            "Thunderbolt 4 Cable",
            "USB-A to USB-C Adapter (2-pack)",
            "Cat 6 Ethernet Cable (5 m)",
        ),
        ("Link", "Bridge", "Conduit", "Span"),
        (7_99, 79_99),
        (0, 6, 12),
        4,
        ("braided jacket", "240 W charging", "8K@60 Hz", "gold-plated connectors", "40 Gbps data"),
    ),
    CategorySpec(
        "Software",
        "SW",
        (
            "Antivirus (1-Year, 3 Devices)",
            "Office Suite",
            "Backup Pro (1-Year)",
            "Video Editor",
            "VPN (1-Year)",
            "Disk Utility Suite",
        ),
        ("Shield", "Studio", "Vault", "Guardian", "Works"),
        (19_99, 299_99),
        (0,),
        1,
        ("digital download", "license key by email", "Windows and macOS", "free updates for 12 months"),
    ),
)

CATEGORY_BY_NAME: dict[str, CategorySpec] = {c.name: c for c in CATEGORIES}
GIFT_CARDS = "Gift Cards"
GIFT_CARD_VALUES = (25_00, 50_00, 100_00, 200_00)


@dataclass(frozen=True)
class BrandSpec:
    name: str  # as stored in products.brand
    code: str  # SKU prefix
    categories: tuple[str, ...]
    weight: int  # share of the non-trap catalogue
    spoken: str = ""  # how customers write it, when that differs from the stored name


# The four trap brands come first; their product quotas are set in generate.py.
TRAP_BRANDS: tuple[BrandSpec, ...] = (
    BrandSpec("VortexLabs", "VTX", ("Keyboards", "Mice", "Headsets", "Webcams", "Monitors"), 0, "Vortex Labs"),
    BrandSpec("PixelForge", "PXF", ("Monitors", "GPUs", "Webcams", "Laptops"), 0, "Pixel Forge"),
    BrandSpec("Q-Sonic", "QSN", ("Headsets", "Routers", "Cables & Adapters"), 0, "QSonic"),
    BrandSpec("Kestrel&Finch", "KNF", ("Keyboards", "Mice", "Cables & Adapters", "Laptops"), 0, "Kestrel and Finch"),
)

OTHER_BRANDS: tuple[BrandSpec, ...] = (
    BrandSpec("Arcwave", "ARC", ("Headsets", "Routers", "Webcams"), 5),
    BrandSpec("Lumenar", "LUM", ("Monitors", "Webcams"), 4),
    BrandSpec("Northpeak", "NPK", ("Laptops", "SSDs"), 4),
    BrandSpec("Corvid Systems", "CRV", ("GPUs", "SSDs", "Laptops"), 4),
    BrandSpec("Tessellate", "TSL", ("Software",), 4),
    BrandSpec("Halcyon Audio", "HAL", ("Headsets",), 3),
    BrandSpec("Ironbark", "IRB", ("Keyboards", "Mice"), 4),
    BrandSpec("Quillon", "QLN", ("Software", "Cables & Adapters"), 3),
    BrandSpec("Solstice Digital", "SOL", ("Monitors", "Laptops"), 3),
    BrandSpec("Brightmoor", "BRM", ("Cables & Adapters", "Webcams"), 3),
    BrandSpec("Nimbus Peripherals", "NMB", ("Keyboards", "Mice", "Webcams"), 4),
    BrandSpec("Zephyra", "ZPH", ("Routers", "Cables & Adapters"), 3),
    BrandSpec("Obsidian Works", "OBW", ("GPUs", "Keyboards"), 3),
    BrandSpec("Kinetica", "KIN", ("Mice", "Headsets"), 3),
    BrandSpec("Verdant Tech", "VRD", ("SSDs", "Routers"), 3),
    BrandSpec("Helix Memory", "HLX", ("SSDs",), 3),
    BrandSpec("Cobalt Gear", "CBG", ("Keyboards", "Headsets", "Cables & Adapters"), 3),
    BrandSpec("Ravenstone", "RVS", ("Laptops", "Monitors"), 2),
    BrandSpec("Axiom Networks", "AXN", ("Routers",), 3),
    BrandSpec("StellarByte", "STB", ("SSDs", "GPUs"), 3),
    BrandSpec("Meridian Soft", "MRS", ("Software",), 2),
)

ALL_BRANDS: tuple[BrandSpec, ...] = TRAP_BRANDS + OTHER_BRANDS

CARRIERS: tuple[tuple[str, str], ...] = (
    ("ParcelPath", "PP"),
    ("SwiftRoute", "SR"),
    ("Meridian Post", "MP"),
    ("BlueLine Courier", "BL"),
)

WAREHOUSE = "Reno, NV"
HUBS: tuple[str, ...] = (
    "Sacramento, CA",
    "Salt Lake City, UT",
    "Denver, CO",
    "Phoenix, AZ",
    "Dallas, TX",
    "Kansas City, MO",
    "Chicago, IL",
    "Memphis, TN",
    "Atlanta, GA",
    "Columbus, OH",
    "Harrisburg, PA",
    "Newark, NJ",
    "Portland, OR",
    "Louisville, KY",
)

EMAIL_DOMAINS: tuple[str, ...] = (
    "example.com",
    "example.net",
    "example.org",
    "mail.example",
    "inbox.example.net",
)

ADDRESS_LABELS: tuple[str, ...] = ("Home", "Work", "Office", "Parents", "Studio")
