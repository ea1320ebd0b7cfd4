"""Fixed test data. Every phone and ID number the tests use is listed here, so the
log scan can look for each of them verbatim as well as for their shapes."""

# Valid GB 11643 numbers (fictitious people, area 340102 合肥市瑶海区).
ZHANG_SAN = ("张三", "340102199003071232")
LI_SI = ("李四", "340102198512154314")
WANG_WU = ("王五", "340102197001015211")
OUYANG = ("欧阳娜娜", "340102200002297024")
WITH_X = ("赵六", "11010519491231002X")  # the GB 11643 standard's own example

PHONES = ["13800138000", "13900139000", "13700137000", "15012345678", "18612345678", "13312345678"]

ALL_ID_NUMBERS = [p[1] for p in (ZHANG_SAN, LI_SI, WANG_WU, OUYANG, WITH_X)]

# 网号/网证 (issue 19, WP3): the fake national platform's SM2 signing key (tests/fakes/ncid.py; test only, never
# configured outside tests), the cert_sn that pins it, and another key for the "wrong key" forgery.
NCID_PLATFORM_KEY_HEX = "D5FFC69513E9C34267DC6C4DC34202C1ADDFC033853085B9EAC11988BD89EACC"
NCID_PLATFORM_CERT_SN = "9d04acad7396fd28"
NCID_OTHER_KEY_HEX = "A59138CA95375F2853E0A8237840B8E2C5CF2F5E395D3F3B5E9B244B4E86319C"
