#pragma once
// The RPCs staff actions go out with, as full gRPC method names: what the outbox stores in
// each row and the sender calls (Outbox::Enqueue checks the name against the contract).
namespace exam::local::method {

inline constexpr char kProctorAction[] = "/exam.v1.LiveService/ProctorAction";
inline constexpr char kClaimAppeal[] = "/exam.v1.AppealService/ClaimAppeal";
inline constexpr char kDecideAppeal[] = "/exam.v1.AppealService/DecideAppeal";
inline constexpr char kClaimHelp[] = "/exam.v1.HelpService/ClaimHelp";
inline constexpr char kPostHelpMessage[] = "/exam.v1.HelpService/PostHelpMessage";
inline constexpr char kResolveHelp[] = "/exam.v1.HelpService/ResolveHelp";
inline constexpr char kRequestRecall[] = "/exam.v1.UploadService/RequestRecall";
inline constexpr char kExtendDeadline[] = "/exam.v1.UploadService/ExtendDeadline";
inline constexpr char kMarkAbnormal[] = "/exam.v1.UploadService/MarkAbnormal";
inline constexpr char kNoteContact[] = "/exam.v1.UploadService/NoteContact";
inline constexpr char kSubmitScore[] = "/exam.v1.ReviewService/SubmitScore";
inline constexpr char kAddAnnotation[] = "/exam.v1.ReviewService/AddAnnotation";

}  // namespace exam::local::method
