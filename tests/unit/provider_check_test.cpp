#include <gtest/gtest.h>

#include "checks/provider_check.hpp"
#include "support/run_task.hpp"

using namespace safetynet;
using namespace safetynet::checks;
using namespace safetynet::testing;

namespace {
ScanResult scan(const std::string& address) {
  ProviderCheck check;
  CheckInput in;
  in.raw = address;
  in.address = parseAddress(address).address;
  ScanResult r;
  runTask([&]() -> Task<void> { co_await check.run(in, r); }());
  return r;
}
std::vector<std::string> names(const ScanResult& r) {
  std::vector<std::string> n;
  for (const auto& s : r.signals()) n.push_back(s.name);
  return n;
}
}  // namespace

TEST(BuiltinLists, AreEmbeddedAndParsed) {
  auto l = BuiltinLists::get();
  EXPECT_GT(l->disposable.size(), 100000u);
  EXPECT_GT(l->disposable_wildcards.size(), 100u);
  EXPECT_GT(l->free.size(), 10000u);
  EXPECT_GT(l->roles.size(), 500u);
  EXPECT_TRUE(l->complaint_roles.count("abuse"));
  EXPECT_TRUE(l->popular_set.count("gmail.com"));
  EXPECT_FALSE(l->disposable.count("# generated"));  // comments are not entries
}

TEST(ProviderCheck, DisposableDomainsIncludingSubdomainsAndWildcards) {
  EXPECT_EQ(names(scan("x@mailinator.com")), std::vector<std::string>{"DISPOSABLE_DOMAIN"});
  EXPECT_EQ(names(scan("x@eu.mailinator.com")), std::vector<std::string>{"DISPOSABLE_DOMAIN"});  // registrable
  const std::string wildcard = *BuiltinLists::get()->disposable_wildcards.begin();
  EXPECT_EQ(names(scan("x@anything." + wildcard)), std::vector<std::string>{"DISPOSABLE_DOMAIN"}) << wildcard;
}

// The upstream disposable list names 21cn.com, China Telecom's mail: an email to one of its
// users was held as bounce_risk. config/lists/not-disposable.txt overrides the list, and survives
// its regeneration (scripts/update-lists).
TEST(ProviderCheck, ARealProviderOnTheUpstreamDisposableListIsNotDisposable) {
  ASSERT_TRUE(BuiltinLists::get()->disposable.count("21cn.com")) << "the upstream list no longer names it: drop the exception";
  EXPECT_EQ(names(scan("li.wei@21cn.com")), std::vector<std::string>{"FREE_PROVIDER"});
  EXPECT_EQ(names(scan("x@mailinator.com")), std::vector<std::string>{"DISPOSABLE_DOMAIN"});
}

TEST(ProviderCheck, RoleMailboxes) {
  EXPECT_EQ(names(scan("abuse@acme-corp.example")), std::vector<std::string>{"ROLE_ACCOUNT"});
  EXPECT_EQ(names(scan("Postmaster+x@acme-corp.example")), std::vector<std::string>{"ROLE_ACCOUNT"});
  EXPECT_EQ(names(scan("sales@acme-corp.example")), std::vector<std::string>{"ROLE_ADDRESS"});
  EXPECT_TRUE(names(scan("jane.doe@acme-corp.example")).empty());
}

TEST(ProviderCheck, FreeProvidersAreInformation) {
  EXPECT_EQ(names(scan("jane@gmail.com")), std::vector<std::string>{"FREE_PROVIDER"});
  EXPECT_EQ(names(scan("jane@gmx.de")), std::vector<std::string>{"FREE_PROVIDER"});
}

TEST(ProviderCheck, TypoDomainsWithSuggestion) {
  for (const auto& [typed, fixed] : std::vector<std::pair<std::string, std::string>>{
           {"gmial.com", "gmail.com"}, {"gmaill.com", "gmail.com"}, {"gamil.com", "gmail.com"},
           {"hotmial.com", "hotmail.com"}, {"yahooo.com", "yahoo.com"}, {"outlok.com", "outlook.com"},
           {"gmail.con", "gmail.com"}, {"hotmail.cm", "hotmail.com"}, {"icloud.co", "icloud.com"},
           {"comcast.nett", "comcast.net"}, {"hitmail.com", "hotmail.com"}}) {  // some are in the free list too
    auto r = scan("jane@" + typed);
    EXPECT_EQ(names(r), std::vector<std::string>{"TYPO_DOMAIN"}) << typed;
    EXPECT_EQ(r.suggestion, "jane@" + fixed) << typed;
  }
}

TEST(ProviderCheck, NoTypoForRealNeighbours) {
  // Real domains one edit from a big provider must not be flagged.
  for (const char* d : {"mail.com", "email.com", "gmx.com", "ymail.com", "y7mail.com", "me.com", "live.com", "acme.com",
                        "earthling.net", "gmail.co.uk.example"})
    EXPECT_TRUE(typoSuggestion(d, *BuiltinLists::get()).empty()) << d;
  // A provider's own country domains: the suffix is a real top-level domain (the Public Suffix
  // List), not a mistyped one, whatever one edit away from another it is (yahoo.dk is not yahoo.de).
  for (const char* d : {"yahoo.dk", "yahoo.fi", "yahoo.gr", "yahoo.be", "hotmail.fi", "hotmail.gr", "web.dk"})
    EXPECT_TRUE(typoSuggestion(d, *BuiltinLists::get()).empty()) << d;
}

TEST(ProviderCheck, RegistrableDomainUsesThePublicSuffixList) {
  EXPECT_EQ(registrableDomain("mail.example.co.uk"), "example.co.uk");
  EXPECT_EQ(registrableDomain("a.b.example.com"), "example.com");
}

#include "checks/mail_provider.hpp"

TEST(MailProvider, ReadFromMxHostNames) {
  EXPECT_EQ(mailProviderOf({"aspmx.l.google.com"}), "google");
  EXPECT_EQ(mailProviderOf({"ALT1.ASPMX.L.GOOGLE.COM."}), "google");  // case and the root dot
  EXPECT_EQ(mailProviderOf({"contoso-com.mail.protection.outlook.com"}), "microsoft365");
  EXPECT_EQ(mailProviderOf({"hotmail-com.olc.protection.outlook.com"}), "outlook_consumer");
  EXPECT_EQ(mailProviderOf({"mta5.am0.yahoodns.net"}), "yahoo");
  EXPECT_EQ(mailProviderOf({"mx0a-001.pphosted.com"}), "proofpoint");
  EXPECT_EQ(mailProviderOf({"eu-smtp-inbound-1.mimecast.com"}), "mimecast");
  // The first host that matches decides; unknown hosts give "".
  EXPECT_EQ(mailProviderOf({"mx.own-server.example", "in1-smtp.messagingengine.com"}), "fastmail");
  EXPECT_EQ(mailProviderOf({"mx.own-server.example"}), "");
  EXPECT_EQ(mailProviderOf({"google.com"}), "");  // a suffix, not a bare name
  EXPECT_EQ(mailProviderOf({}), "");
}
