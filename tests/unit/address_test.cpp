// The project's own syntax cases (the isemail set is an evaluation, scripts/eval-syntax).
#include <gtest/gtest.h>

#include "safetynet/check/address.hpp"

using namespace safetynet;

namespace {
bool valid(const std::string& a) { return parseAddress(a).address.has_value(); }
std::string why(const std::string& a) {
  auto p = parseAddress(a);
  return p.error ? p.error->reason : "";
}
}  // namespace

TEST(Address, AcceptsOrdinaryBusinessAddresses) {
  for (const char* a : {"jane.doe@acme.com", "j+tag@acme.co.uk", "o'brien@example.ie", "x_y-z@sub.example.org",
                        "!#$%&'*+/=?^_`{|}~-@example.com", "1234@123.com", "a@b.co"})
    EXPECT_TRUE(valid(a)) << a;
}

TEST(Address, RefusesWhatMtasAndPlatformsWillNotCarry) {
  EXPECT_EQ(why(""), "the address is empty");
  EXPECT_EQ(why("jane.acme.com"), "the address has no @");
  EXPECT_EQ(why("jane@"), "the domain is empty");
  EXPECT_EQ(why("@acme.com"), "the part before @ is empty");
  EXPECT_EQ(why(".jane@acme.com"), "the part before @ starts with a dot");
  EXPECT_EQ(why("jane.@acme.com"), "the part before @ ends with a dot");
  EXPECT_EQ(why("ja..ne@acme.com"), "the part before @ has two dots in a row");
  EXPECT_EQ(why("\"jane doe\"@acme.com"), "quoted local parts are not accepted");
  EXPECT_EQ(why("jane(comment)@acme.com"), "comments are not accepted");
  EXPECT_EQ(why("jane doe@acme.com"), "the address contains white space");
  EXPECT_EQ(why("jane@[192.0.2.1]"), "address literals ([1.2.3.4]) are not accepted");
  EXPECT_EQ(why("jane@acme"), "the domain has no dot: a top-level domain alone takes no mail");
  EXPECT_EQ(why("jane@-acme.com"), "a domain label starts or ends with a hyphen");
  EXPECT_EQ(why("jane@acme..com"), "the domain has an empty label");
  EXPECT_EQ(why("jane@acme.com."), "the domain ends with a dot");
  EXPECT_EQ(why("jane@acme.123"), "the top-level domain is all digits");
  EXPECT_EQ(why("jane@ac_me.com"), "the domain contains '_'");
  EXPECT_EQ(why("a@b@acme.com"), "the address has more than one @");
  EXPECT_EQ(why(std::string("ja\x07ne@acme.com")), "the address contains a control character");
  EXPECT_EQ(why("\xff\xfe@acme.com"), "the address is not valid UTF-8");
}

TEST(Address, EnforcesLengthLimits) {
  EXPECT_TRUE(valid(std::string(64, 'a') + "@example.com"));
  EXPECT_EQ(why(std::string(65, 'a') + "@example.com"), "the part before @ is longer than 64 octets");
  EXPECT_EQ(why("a@" + std::string(64, 'b') + ".com"), "a domain label is longer than 63 octets");
  std::string longDomain;
  for (int i = 0; i < 5; ++i) longDomain += std::string(50, 'c') + ".";
  EXPECT_EQ(why("a@" + longDomain + "com"), "the address is longer than 254 octets");
}

TEST(Address, InternationalisedAddressesAreNormalised) {
  auto p = parseAddress("JÖRG@Bücher.Example");
  ASSERT_TRUE(p.address) << p.error->reason;
  EXPECT_TRUE(p.address->smtputf8);
  EXPECT_EQ(p.address->ascii_domain, "xn--bcher-kva.example");
  EXPECT_EQ(p.address->domain, "bücher.example");
  // A-labels are shown in Unicode; the ASCII form is what DNS is asked.
  auto a = parseAddress("test@xn--bcher-kva.example");
  ASSERT_TRUE(a.address);
  EXPECT_EQ(a.address->domain, "bücher.example");
  EXPECT_FALSE(a.address->smtputf8);
  // NFC: "e" + COMBINING ACUTE becomes "é".
  auto n = parseAddress("jose\xcc\x81@example.com");
  ASSERT_TRUE(n.address);
  EXPECT_EQ(n.address->local, "jos\xc3\xa9");
  EXPECT_FALSE(valid("a@xn--invalid-.example"));
}

TEST(Address, CanonicalFormForLookups) {
  EXPECT_EQ(canonicalAddress("Jane.Doe@ACME.com"), "jane.doe@acme.com");
  EXPECT_EQ(canonicalAddress("not an address"), "not an address");
}

// Found by fuzzing (tests/fuzz/address_fuzz.cpp): the Punycode of this A-label decodes to
// "bcherlocal\u00b1host", which IDNA2008 disallows; it was accepted, and its normalized form did not
// parse again.
TEST(Address, RefusesAnALabelWhoseULabelIsNotIdna2008) {
  EXPECT_EQ(why("test@xn--bcherlocalhost-kva.example"), "the domain has an invalid A-label");
  EXPECT_TRUE(valid("test@xn--bcher-kva.example"));  // b\u00fccher.example
  EXPECT_EQ(parseAddress("test@XN--BCHER-KVA.example").address->domain, "b\u00fccher.example");
}

// Found by fuzzing: the same address, 253 octets with A-labels, was refused as "longer than 254
// octets" when written with its U-labels (259 octets of UTF-8). The limit is on the A-label form.
TEST(Address, LengthLimitIsOnTheALabelForm) {
  const std::string aLabels = "a@a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t.u.v.w.x.y.z.a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t.u.v.w.x.y.z.a.b.c.d.e.f.g.h.i.i.j.k.l.m.n.o.p.q.r.xn--hxajbheg2aab3k.xn--jxalpdlpiana.org.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t.u.v";
  const std::string uLabels = "a@a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t.u.v.w.x.y.z.a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t.u.v.w.x.y.z.a.b.c.d.e.f.g.h.i.i.j.k.l.m.n.o.p.q.r.αάδειιγφια.ςςδοκππιμή.org.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t.u.v";
  auto a = parseAddress(aLabels), u = parseAddress(uLabels);
  ASSERT_TRUE(a.address) << a.error->reason;
  ASSERT_TRUE(u.address) << u.error->reason;
  EXPECT_EQ(a.address->ascii_domain, u.address->ascii_domain);
  EXPECT_EQ(parseAddress(a.address->normalized()).address->ascii_domain, a.address->ascii_domain);
  EXPECT_EQ(why("a@" + std::string(250, 'b') + ".com"), "the address is longer than 254 octets");
}
