#pragma once

// One PMIx client session (libpmix-dev), for launch.cpp: rank, job size and
// local rank from the launcher, and its key-value exchange (put, commit,
// fence with data collection, get). Finalized when destroyed.

#include <pmix.h>

#include <cstdint>
#include <cstring>
#include <string>

#include "murmur/common/result.hpp"

namespace murmur::actors {

// PMIx's job: init, put this process's values, fence with data collection,
// get everyone's, finalize. Keys: murmur.endpoint and murmur.key.
class pmix_session {
 public:
  common::status init() {
    if (const auto rc = PMIx_Init(&me_, nullptr, 0); rc != PMIX_SUCCESS)
      return common::make_error(common::errc::io, std::string("PMIx_Init: ") + PMIx_Error_string(rc));
    live_ = true;
    return {};
  }
  ~pmix_session() {
    if (live_) PMIx_Finalize(nullptr, 0);
  }
  std::int64_t rank() const { return me_.rank; }
  common::result<std::int64_t> job_size() {
    pmix_proc_t job;
    PMIX_PROC_CONSTRUCT(&job);
    std::memcpy(job.nspace, me_.nspace, sizeof job.nspace);
    job.rank = PMIX_RANK_WILDCARD;
    pmix_value_t* v = nullptr;
    if (const auto rc = PMIx_Get(&job, PMIX_JOB_SIZE, nullptr, 0, &v); rc != PMIX_SUCCESS || !v)
      return common::make_error(common::errc::io, std::string("PMIx_Get(job size): ") + PMIx_Error_string(rc));
    const std::int64_t size = v->type == PMIX_UINT32 ? v->data.uint32 : -1;
    PMIX_VALUE_RELEASE(v);
    if (size < 1) return common::make_error(common::errc::io, "PMIx gave no job size");
    return size;
  }
  std::int64_t local_rank() {
    pmix_value_t* v = nullptr;
    std::int64_t r = -1;
    if (PMIx_Get(&me_, PMIX_LOCAL_RANK, nullptr, 0, &v) == PMIX_SUCCESS && v) {
      if (v->type == PMIX_UINT16) r = v->data.uint16;
      PMIX_VALUE_RELEASE(v);
    }
    return r;
  }
  common::status put(const char* key, const std::string& value) {
    pmix_value_t v;
    PMIX_VALUE_CONSTRUCT(&v);
    v.type = PMIX_STRING;
    v.data.string = const_cast<char*>(value.c_str());
    const auto rc = PMIx_Put(PMIX_GLOBAL, key, &v);
    if (rc != PMIX_SUCCESS)
      return common::make_error(common::errc::io, std::string("PMIx_Put: ") + PMIx_Error_string(rc));
    return {};
  }
  common::status commit_and_fence() {
    if (const auto rc = PMIx_Commit(); rc != PMIX_SUCCESS)
      return common::make_error(common::errc::io, std::string("PMIx_Commit: ") + PMIx_Error_string(rc));
    pmix_proc_t job;
    PMIX_PROC_CONSTRUCT(&job);
    std::memcpy(job.nspace, me_.nspace, sizeof job.nspace);
    job.rank = PMIX_RANK_WILDCARD;
    pmix_info_t info;
    PMIX_INFO_CONSTRUCT(&info);
    bool collect = true;
    PMIX_INFO_LOAD(&info, PMIX_COLLECT_DATA, &collect, PMIX_BOOL);
    const auto rc = PMIx_Fence(&job, 1, &info, 1);
    PMIX_INFO_DESTRUCT(&info);
    if (rc != PMIX_SUCCESS)
      return common::make_error(common::errc::io, std::string("PMIx_Fence: ") + PMIx_Error_string(rc));
    return {};
  }
  common::result<std::string> get(std::int64_t rank, const char* key) {
    pmix_proc_t p;
    PMIX_PROC_CONSTRUCT(&p);
    std::memcpy(p.nspace, me_.nspace, sizeof p.nspace);
    p.rank = static_cast<pmix_rank_t>(rank);
    pmix_value_t* v = nullptr;
    const auto rc = PMIx_Get(&p, key, nullptr, 0, &v);
    if (rc != PMIX_SUCCESS || !v || v->type != PMIX_STRING || !v->data.string) {
      if (v) PMIX_VALUE_RELEASE(v);
      return common::make_error(common::errc::io, "PMIx_Get(" + std::string(key) + " of rank " + std::to_string(rank) +
                                                      "): " + PMIx_Error_string(rc));
    }
    std::string out = v->data.string;
    PMIX_VALUE_RELEASE(v);
    return out;
  }

 private:
  pmix_proc_t me_{};
  bool live_ = false;
};

}  // namespace murmur::actors
