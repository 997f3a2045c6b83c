// The test counterparty of tickcross's FIX connector: a QuickFIX acceptor on 127.0.0.1 that
// fills, partially fills or rejects IOC limit orders by rule, and appends every fill to a JSONL
// file.
//
// acceptor --settings acceptor.cfg --dict FIX44.xml --port P --sender ACC --target TC
//          --fills FILE --log DIR --store DIR [--liquidity Q] [--reject-above Q] [--hold-below Q] [--partials K]
//          [--ioc-remainder expired|canceled] [--bmr-symbols A,B] [--username U --password P]
//          [--bust-every N] [--correct-every N]
//
// The rule, for each NewOrderSingle (D) not seen before (by ClOrdID; a resent duplicate gets
// nothing):
//   1. Symbol in --bmr-symbols: BusinessMessageReject (j), reason 2 (unknown security).
//   2. OrderQty above --reject-above (default 1000): ExecutionReport Rejected (150=8, 39=8, 103=13).
//   3. OrderQty below --hold-below (default 0: never): New (150=0) only; the order rests until
//      an OrderCancelRequest cancels it (150=4).
//   4. Otherwise New, then the filled quantity min(OrderQty, --liquidity (default unlimited))
//      at the order's limit price, in --partials (default 1) Trade reports (150=F; the last one
//      39=2 if all is filled, else 39=1), then, if not all filled, the IOC remainder: 150=C 39=C
//      (or 150=4 39=4 with --ioc-remainder canceled). Every fill is a line of --fills:
//      {"cl_ord_id","symbol","side","qty","price","exec_id","exec_type":"F"}.
//   5. Trade busts and corrections, on cue: fills are counted over the whole run; the Nth fill
//      with N a multiple of --bust-every is busted, else one with N a multiple of
//      --correct-every is corrected (LastQty halved, down to whole 1e-8, at least 1e-8; LastPx
//      one unit of its last decimal place lower). Each goes out once the order's last report
//      (its final trade report, or the IOC remainder) is out, that is after the order is final:
//      an ExecutionReport 150=H (Trade Cancel) or 150=G (Trade Correct, with the corrected
//      32/31) whose ExecRefID(19) is the fill's ExecID, OrdStatus the order's final status,
//      CumQty the order's filled total after it. Each is a line of --fills too, logged before
//      it is sent: {"cl_ord_id","symbol","side","qty","price","exec_id","exec_type":"H" or "G",
//      "exec_ref_id"}, where qty and price are the busted fill's (H) or the corrected ones (G).
// OrderCancelRequest (F) for a resting order cancels it; for any other, OrderCancelReject (9).
// OrderStatusRequest (H): an ExecutionReport 150=I with the order's OrdStatus, CumQty, LeavesQty
// and AvgPx (OrdStatusReqID(790) echoed); for a ClOrdID never received, 150=I 39=8 with
// OrdRejReason(103)=5 (unknown order), as FIX 4.4's order state matrices answer it.
// OrderMassStatusRequest (AF, MassStatusReqType 7): an ExecutionReport 150=I for every resting
// order, with MassStatusReqID(584), TotNumReports(911) and LastRptRequested(912)=Y on the last;
// with none resting, one 150=I 39=8 report for ClOrdID NONE with 911=0 and 912=Y.
//
// Standard input takes test hooks, one per line, applied to the next NewOrderSingle; each is
// acknowledged with "ACK <line>" on standard output once it is in place (a test waits for that
// before sending the order, so the hook cannot miss it):
//   drop      disconnect before answering (the answers are numbered and kept before the
//             reconnect's Logon is answered, so it sees them as a gap and asks for them)
//   gap N     skip N outgoing sequence numbers before answering
//   garbage   send an ExecutionReport with a malformed LastQty (32=abc) before the answers
//   logout    log out after answering
//   stall     print "STALL clordid=..", then hold the order unanswered until "release" (a test
//             kills tickcross meanwhile: the answers go out, or are kept for a resend, after)
//   release   (immediately) let a stalled order go on
//   quit      (immediately) stop
// Standard output reports, one line each: READY, LOGON, LOGOUT, IN type=.. seq=.. possdup=..
// (every message received; rejects with refseq= and reason=), HOOK name, DUP clordid=..,
// FILL clordid=.. qty=.. price=.., BUST clordid=.. ref=.., CORRECT clordid=.. ref=.. qty=.. price=..,
// STALL clordid=.., STATUS clordid=.. known=Y|N, MASS reports=N, ACK line. A fill is in --fills and on standard output before
// its trade report is sent, so whoever has seen the report can read the fill.
#include <quickfix/Application.h>
#include <quickfix/FileLog.h>
#include <quickfix/FileStore.h>
#include <quickfix/Message.h>
#include <quickfix/MessageStore.h>
#include <quickfix/Session.h>
#include <quickfix/SessionSettings.h>
#include <quickfix/SocketAcceptor.h>
#include <quickfix/ThreadedSocketAcceptor.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

// Decimals as integers of 1e-12 units: exact for the quantities of the tests.
const int SCALE = 12;

bool parse_dec(const std::string& s, long long& out, int& digits) {
  size_t i = 0;
  bool neg = false;
  if (i < s.size() && s[i] == '-') { neg = true; ++i; }
  long long ip = 0, fp = 0;
  int fd = 0;
  bool any = false;
  for (; i < s.size() && s[i] != '.'; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    ip = ip * 10 + (s[i] - '0');
    any = true;
    if (ip > 9000000) return false;
  }
  if (i < s.size()) {
    for (++i; i < s.size(); ++i) {
      if (s[i] < '0' || s[i] > '9' || fd >= SCALE) return false;
      fp = fp * 10 + (s[i] - '0');
      ++fd;
      any = true;
    }
  }
  if (!any) return false;
  for (int k = fd; k < SCALE; ++k) fp *= 10;
  long long p = 1;
  for (int k = 0; k < SCALE; ++k) p *= 10;
  out = ip * p + fp;
  if (neg) out = -out;
  digits = fd;
  return true;
}

std::string fmt_dec(long long v) {
  long long p = 1;
  for (int k = 0; k < SCALE; ++k) p *= 10;
  bool neg = v < 0;
  if (neg) v = -v;
  std::string frac = std::to_string(v % p);
  frac = std::string(SCALE - frac.size(), '0') + frac;
  while (!frac.empty() && frac.back() == '0') frac.pop_back();
  std::string s = (neg ? "-" : "") + std::to_string(v / p);
  if (!frac.empty()) s += "." + frac;
  return s;
}

long long unit_of(int digits) {
  long long u = 1;
  for (int k = digits; k < SCALE; ++k) u *= 10;
  return u;
}

std::string now_ts() {
  FIX::UtcTimeStamp t;
  return FIX::UtcTimeStampConvertor::convert(t, 3);
}

struct Resting {
  std::string symbol, side, qty, price, order_id;
};

// Every order received, as an OrderStatusRequest reports it.
struct Known {
  std::string symbol, side, qty, price, order_id, status, cum, avg;
};

struct Options {
  std::string fills;
  long long liquidity = -1;
  long long reject_above = 0;
  long long hold_below = 0;
  int partials = 1;
  bool remainder_canceled = false;
  std::set<std::string> bmr_symbols;
  std::string username, password;
  long long bust_every = 0, correct_every = 0;
};

// A fill to bust or correct once its order's last report is out.
struct Amend {
  bool bust;
  std::string exec_ref;
  long long qty, new_qty;
  std::string price, new_price;
};

class App : public FIX::Application {
 public:
  explicit App(const Options& o) : opt_(o), fills_(o.fills.c_str(), std::ios::app) {}

  void onCreate(const FIX::SessionID&) override {}
  void onLogon(const FIX::SessionID&) override { say("LOGON"); }
  void onLogout(const FIX::SessionID&) override { say("LOGOUT"); }
  void toAdmin(FIX::Message&, const FIX::SessionID&) override {}
  void toApp(FIX::Message&, const FIX::SessionID&) throw(FIX::DoNotSend) override {}

  void fromAdmin(const FIX::Message& m, const FIX::SessionID&) throw(
      FIX::FieldNotFound, FIX::IncorrectDataFormat, FIX::IncorrectTagValue,
      FIX::RejectLogon) override {
    report_in(m);
    if (get_header(m, 35) != "A") return;
    // QuickFIX answers a Logon after this returns: an order still in hand (a drop hook)
    // numbers its answers first. (QuickFIX 1.15 also gives a new connection the session only
    // once the old connection's thread is done; this does not depend on that.)
    std::lock_guard<std::mutex> l(mu_);
    if (!opt_.password.empty()) {
      if (get(m, 553) != opt_.username || get(m, 554) != opt_.password) {
        say("LOGON_REFUSED");
        throw FIX::RejectLogon("bad username or password");
      }
    }
  }

  void fromApp(const FIX::Message& m, const FIX::SessionID& sid) throw(
      FIX::FieldNotFound, FIX::IncorrectDataFormat, FIX::IncorrectTagValue,
      FIX::UnsupportedMessageType) override {
    report_in(m);
    std::lock_guard<std::mutex> l(mu_);
    std::string type = get_header(m, 35);
    if (type == "D") on_order(m, sid);
    else if (type == "F") on_cancel(m, sid);
    else if (type == "H") on_status(m, sid);
    else if (type == "AF") on_mass_status(m, sid);
    else if (type == "j") {
    } else throw FIX::UnsupportedMessageType();
  }

  void add_hook(const std::string& h) {
    std::lock_guard<std::mutex> l(hooks_mu_);
    hooks_.push_back(h);
  }

  // lets a stalled order go on
  void release() {
    std::lock_guard<std::mutex> l(stall_mu_);
    released_ = true;
    stall_cv_.notify_all();
  }

  static void say(const std::string& s) {
    static std::mutex mu;
    std::lock_guard<std::mutex> l(mu);
    std::cout << s << std::endl;
  }

 private:
  static std::string get(const FIX::Message& m, int tag) {
    return m.isSetField(tag) ? m.getField(tag) : std::string();
  }
  static std::string get_header(const FIX::Message& m, int tag) {
    return m.getHeader().isSetField(tag) ? m.getHeader().getField(tag) : std::string();
  }

  void report_in(const FIX::Message& m) {
    std::ostringstream o;
    std::string pd = get_header(m, 43);
    o << "IN type=" << get_header(m, 35) << " seq=" << get_header(m, 34)
      << " possdup=" << (pd.empty() ? "N" : pd);
    std::string t = get_header(m, 35);
    if (t == "3") o << " refseq=" << get(m, 45) << " reason=" << get(m, 373) << " tag=" << get(m, 371);
    if (t == "2") o << " begin=" << get(m, 7) << " end=" << get(m, 16);
    if (t == "4") o << " newseq=" << get(m, 36) << " gapfill=" << get(m, 123);
    if (t == "D" || t == "F" || t == "H") o << " clordid=" << get(m, 11);
    say(o.str());
  }

  std::vector<std::string> take_hooks() {
    std::lock_guard<std::mutex> l(hooks_mu_);
    std::vector<std::string> h;
    h.swap(hooks_);
    return h;
  }

  FIX::Message er(const std::string& cl, const std::string& orig, const std::string& order_id,
                  const std::string& exec_type, const std::string& status,
                  const std::string& symbol, const std::string& side, const std::string& qty,
                  const std::string& price, const std::string& leaves, const std::string& cum,
                  const std::string& avg) {
    FIX::Message r;
    r.getHeader().setField(35, "8");
    r.setField(37, order_id);
    r.setField(11, cl);
    if (!orig.empty()) r.setField(41, orig);
    r.setField(17, "E" + std::to_string(++exec_ids_));
    r.setField(150, exec_type);
    r.setField(39, status);
    r.setField(55, symbol);
    r.setField(54, side);
    r.setField(38, qty);
    r.setField(40, "2");
    r.setField(44, price);
    r.setField(59, "3");
    r.setField(151, leaves);
    r.setField(14, cum);
    r.setField(6, avg);
    r.setField(60, now_ts());
    return r;
  }

  void send(FIX::Message& m, const FIX::SessionID& sid) { FIX::Session::sendToTarget(m, sid); }

  void on_order(const FIX::Message& m, const FIX::SessionID& sid) {
    std::string cl = get(m, 11), symbol = get(m, 55), side = get(m, 54), qty_s = get(m, 38),
                price = get(m, 44);
    if (!seen_.insert(cl).second) {
      say("DUP clordid=" + cl);
      return;
    }
    FIX::Session* session = FIX::Session::lookupSession(sid);
    bool logout_after = false;
    for (const std::string& h : take_hooks()) {
      say("HOOK " + h);
      if (h == "drop" && session) session->disconnect();
      else if (h.compare(0, 4, "gap ") == 0 && session)
        session->setNextSenderMsgSeqNum(session->getExpectedSenderNum() + std::atoi(h.c_str() + 4));
      else if (h == "garbage") {
        FIX::Message g = er(cl, "", "X", "F", "1", symbol, side, qty_s, price, "0", "0", "0");
        g.setField(32, "abc");
        g.setField(31, price);
        send(g, sid);
      } else if (h == "logout") logout_after = true;
      else if (h == "stall") {
        say("STALL clordid=" + cl);
        std::unique_lock<std::mutex> l(stall_mu_);
        stall_cv_.wait(l, [this] { return released_; });
        released_ = false;
      }
    }
    std::string order_id = "O" + std::to_string(++order_ids_);
    long long qty = 0;
    int digits = 0;
    known_[cl] = Known{symbol, side, qty_s, price, order_id, "8", "0", "0"};
    if (!parse_dec(qty_s, qty, digits) || qty <= 0) {
      FIX::Message r = er(cl, "", order_id, "8", "8", symbol, side, qty_s, price, "0", "0", "0");
      r.setField(103, "13");
      r.setField(58, "bad quantity");
      send(r, sid);
      return;
    }
    if (opt_.bmr_symbols.count(symbol)) {
      FIX::Message r;
      r.getHeader().setField(35, "j");
      r.setField(45, get_header(m, 34));
      r.setField(372, "D");
      r.setField(379, cl);
      r.setField(380, "2");
      r.setField(58, "unknown security " + symbol);
      known_.erase(cl);
      send(r, sid);
    } else if (opt_.reject_above > 0 && qty > opt_.reject_above) {
      FIX::Message r = er(cl, "", order_id, "8", "8", symbol, side, qty_s, price, "0", "0", "0");
      r.setField(103, "13");
      r.setField(58, "quantity above limit");
      send(r, sid);
    } else if (qty < opt_.hold_below) {
      FIX::Message r = er(cl, "", order_id, "0", "0", symbol, side, qty_s, price, qty_s, "0", "0");
      send(r, sid);
      resting_[cl] = Resting{symbol, side, qty_s, price, order_id};
      known_[cl].status = "0";
    } else {
      FIX::Message n = er(cl, "", order_id, "0", "0", symbol, side, qty_s, price, qty_s, "0", "0");
      send(n, sid);
      long long fill = opt_.liquidity >= 0 && opt_.liquidity < qty ? opt_.liquidity : qty;
      // trade reports are whole multiples of 1e-8 (the last one takes the rest)
      long long unit = unit_of(8);
      long long cum = 0;
      std::vector<Amend> amends;
      int k = opt_.partials < 1 ? 1 : opt_.partials;
      for (int i = 0; i < k && cum < fill; ++i) {
        long long part = i + 1 == k ? fill - cum : ((fill / k) / unit) * unit;
        if (part <= 0) continue;
        cum += part;
        bool all = cum == qty;
        FIX::Message f = er(cl, "", order_id, "F", all ? "2" : "1", symbol, side, qty_s, price,
                            fmt_dec(qty - cum), fmt_dec(cum), price);
        f.setField(32, fmt_dec(part));
        f.setField(31, price);
        std::string exec_id = f.getField(17);
        // logged before the report goes out: a test that has the report can read the fill
        fills_ << "{\"cl_ord_id\":\"" << cl << "\",\"symbol\":\"" << symbol << "\",\"side\":\""
               << (side == "1" ? "buy" : "sell") << "\",\"qty\":\"" << fmt_dec(part)
               << "\",\"price\":\"" << price << "\",\"exec_id\":\"" << exec_id
               << "\",\"exec_type\":\"F\"}" << std::endl;
        say("FILL clordid=" + cl + " qty=" + fmt_dec(part) + " price=" + price);
        send(f, sid);
        ++fills_seen_;
        bool bust = opt_.bust_every > 0 && fills_seen_ % opt_.bust_every == 0;
        bool correct = !bust && opt_.correct_every > 0 && fills_seen_ % opt_.correct_every == 0;
        if (bust || correct) {
          long long half = ((part / 2) / unit) * unit;
          amends.push_back(Amend{bust, exec_id, part, half > 0 ? half : unit, price,
                                 lower_price(price)});
        }
      }
      std::string final_status = cum == qty ? "2" : (opt_.remainder_canceled ? "4" : "C");
      known_[cl].status = final_status;
      known_[cl].cum = fmt_dec(cum);
      known_[cl].avg = cum > 0 ? price : "0";
      if (cum < qty) {
        const char* t = opt_.remainder_canceled ? "4" : "C";
        FIX::Message r = er(cl, "", order_id, t, t, symbol, side, qty_s, price, "0",
                            fmt_dec(cum), cum > 0 ? price : "0");
        r.setField(58, "IOC remainder");
        send(r, sid);
      }
      // the order is final: now its busts and corrections
      for (const Amend& a : amends) {
        cum += a.bust ? -a.qty : a.new_qty - a.qty;
        known_[cl].cum = fmt_dec(cum);
        if (!a.bust) known_[cl].avg = "";  // several prices now: not kept, see on_status
        FIX::Message b = er(cl, "", order_id, a.bust ? "H" : "G", final_status, symbol, side,
                            qty_s, price, "0", fmt_dec(cum), price);
        b.setField(19, a.exec_ref);
        std::string q = a.bust ? fmt_dec(a.qty) : fmt_dec(a.new_qty);
        std::string px = a.bust ? a.price : a.new_price;
        if (!a.bust) {
          b.setField(32, q);
          b.setField(31, px);
        }
        fills_ << "{\"cl_ord_id\":\"" << cl << "\",\"symbol\":\"" << symbol << "\",\"side\":\""
               << (side == "1" ? "buy" : "sell") << "\",\"qty\":\"" << q << "\",\"price\":\""
               << px << "\",\"exec_id\":\"" << b.getField(17) << "\",\"exec_type\":\""
               << (a.bust ? "H" : "G") << "\",\"exec_ref_id\":\"" << a.exec_ref << "\"}"
               << std::endl;
        say(std::string(a.bust ? "BUST" : "CORRECT") + " clordid=" + cl + " ref=" + a.exec_ref +
            (a.bust ? "" : " qty=" + q + " price=" + px));
        send(b, sid);
      }
    }
    if (logout_after && session) session->logout("test logout");
  }

  void on_cancel(const FIX::Message& m, const FIX::SessionID& sid) {
    std::string cl = get(m, 11), orig = get(m, 41);
    auto it = resting_.find(orig);
    if (it != resting_.end()) {
      const Resting& r = it->second;
      FIX::Message c = er(cl, orig, r.order_id, "4", "4", r.symbol, r.side, r.qty, r.price, "0",
                          "0", "0");
      send(c, sid);
      known_[orig].status = "4";
      resting_.erase(it);
      return;
    }
    FIX::Message c;
    c.getHeader().setField(35, "9");
    c.setField(37, "NONE");
    c.setField(11, cl);
    c.setField(41, orig);
    c.setField(39, "4");
    c.setField(434, "1");
    c.setField(102, "1");
    c.setField(58, "unknown order or already final");
    send(c, sid);
  }

  void on_status(const FIX::Message& m, const FIX::SessionID& sid) {
    std::string cl = get(m, 11);
    auto it = known_.find(cl);
    FIX::Message r;
    if (it == known_.end()) {
      r = er(cl, "", "NONE", "I", "8", get(m, 55), get(m, 54), "0", "0", "0", "0", "0");
      r.setField(103, "5");
      r.setField(58, "unknown order");
    } else {
      const Known& k = it->second;
      bool working = k.status == "0" || k.status == "1";
      long long q = 0, c = 0;
      int d = 0;
      parse_dec(k.qty, q, d);
      parse_dec(k.cum, c, d);
      r = er(cl, "", k.order_id, "I", k.status, k.symbol, k.side, k.qty, k.price,
             working ? fmt_dec(q - c) : "0", k.cum, k.avg.empty() ? "0" : k.avg);
    }
    if (m.isSetField(790)) r.setField(790, get(m, 790));
    say("STATUS clordid=" + cl + " known=" + (it == known_.end() ? "N" : "Y"));
    send(r, sid);
  }

  void on_mass_status(const FIX::Message& m, const FIX::SessionID& sid) {
    std::string req = get(m, 584);
    std::vector<FIX::Message> out;
    for (const auto& kv : resting_) {
      const Resting& r = kv.second;
      out.push_back(er(kv.first, "", r.order_id, "I", "0", r.symbol, r.side, r.qty, r.price, r.qty,
                       "0", "0"));
    }
    if (out.empty()) {
      FIX::Message none = er("NONE", "", "NONE", "I", "8", "", "1", "0", "0", "0", "0", "0");
      none.removeField(55);
      none.setField(58, "no orders");
      out.push_back(none);
    }
    say("MASS reports=" + std::to_string(resting_.size()));
    for (size_t i = 0; i < out.size(); ++i) {
      out[i].setField(584, req);
      out[i].setField(911, std::to_string(resting_.size()));
      if (i + 1 == out.size()) out[i].setField(912, "Y");
      send(out[i], sid);
    }
  }

  Options opt_;
  // one order, cancel or logon at a time: a drop hook's answers are numbered before the
  // reconnect's Logon is answered, and the order state below is never shared between threads
  std::mutex mu_;
  std::ofstream fills_;
  std::mutex hooks_mu_;
  std::vector<std::string> hooks_;
  std::set<std::string> seen_;
  std::map<std::string, Resting> resting_;
  std::map<std::string, Known> known_;
  std::mutex stall_mu_;
  std::condition_variable stall_cv_;
  bool released_ = false;
  long long exec_ids_ = 0, order_ids_ = 0, fills_seen_ = 0;

  // one unit of the last decimal place lower ("60000.5" -> "60000.4", "60000" -> "59999")
  static std::string lower_price(const std::string& p) {
    long long v = 0;
    int digits = 0;
    if (!parse_dec(p, v, digits)) return p;
    long long lower = v - unit_of(digits);
    return lower > 0 ? fmt_dec(lower) : p;
  }
};

std::string replace_all(std::string s, const std::string& a, const std::string& b) {
  for (size_t p = s.find(a); p != std::string::npos; p = s.find(a, p + b.size()))
    s.replace(p, a.size(), b);
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> args;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    if (k.compare(0, 2, "--") != 0) {
      std::cerr << "bad argument " << k << std::endl;
      return 2;
    }
    args[k.substr(2)] = argv[i + 1];
  }
  for (const char* need : {"settings", "dict", "port", "sender", "target", "fills", "log", "store"}) {
    if (!args.count(need)) {
      std::cerr << "missing --" << need << std::endl;
      return 2;
    }
  }
  Options o;
  o.fills = args["fills"];
  int d = 0;
  if (args.count("liquidity") && !parse_dec(args["liquidity"], o.liquidity, d)) return 2;
  if (!parse_dec(args.count("reject-above") ? args["reject-above"] : "1000", o.reject_above, d))
    return 2;
  if (args.count("hold-below") && !parse_dec(args["hold-below"], o.hold_below, d)) return 2;
  if (args.count("partials")) o.partials = std::atoi(args["partials"].c_str());
  o.remainder_canceled = args.count("ioc-remainder") && args["ioc-remainder"] == "canceled";
  if (args.count("bmr-symbols")) {
    std::stringstream ss(args["bmr-symbols"]);
    std::string s;
    while (std::getline(ss, s, ',')) o.bmr_symbols.insert(s);
  }
  if (args.count("bust-every")) o.bust_every = std::atoll(args["bust-every"].c_str());
  if (args.count("correct-every")) o.correct_every = std::atoll(args["correct-every"].c_str());
  o.username = args["username"];
  o.password = args["password"];

  std::ifstream in(args["settings"].c_str());
  if (!in) {
    std::cerr << "cannot read " << args["settings"] << std::endl;
    return 2;
  }
  std::stringstream buf;
  buf << in.rdbuf();
  std::string text = buf.str();
  text = replace_all(text, "@PORT@", args["port"]);
  text = replace_all(text, "@SENDER@", args["sender"]);
  text = replace_all(text, "@TARGET@", args["target"]);
  text = replace_all(text, "@DICT@", args["dict"]);
  try {
    std::istringstream cfg(text);
    FIX::SessionSettings settings(cfg);
    App app(o);
    // QuickFIX's MemoryStore answers a ResendRequest starting at a number it does not hold
    // with one gap fill over everything; its FileStore looks each number up
    FIX::FileStoreFactory store(args["store"]);
    FIX::FileLogFactory log(args["log"]);
    FIX::ThreadedSocketAcceptor acceptor(app, store, settings, log);
    acceptor.start();
    App::say("READY");
    std::string line;
    while (std::getline(std::cin, line)) {
      if (line == "quit") {
        app.release();  // a stalled order must not hold the session's thread past the stop
        break;
      }
      if (line.empty()) continue;
      if (line == "release") {
        app.release();
        App::say("ACK " + line);
        continue;
      }
      app.add_hook(line);
      App::say("ACK " + line);
    }
    acceptor.stop(true);
  } catch (std::exception& e) {
    std::cerr << "acceptor: " << e.what() << std::endl;
    return 1;
  }
  return 0;
}
